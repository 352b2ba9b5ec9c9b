"""How news travels up the floors: a floor below announces on a `Channel`, the floors above
connect their listeners once, in their AppConfig.ready.

Imports run one way (accounts <- tokens <- chats), so a lower floor cannot call the ones above:
accounts announces its changes (`accounts.services.changes`), tokens its credential events
(`tokens.lifecycle`), and whoever cares listens. Listeners run in the order they connected,
inside the announcing write's transaction, so what they write commits (or not) with it.
"""


class Channel:
    def __init__(self, name):
        self.name = name
        self._listeners = []

    def __repr__(self):
        return f"<Channel {self.name}: {len(self._listeners)} listener(s)>"

    def connect(self, listener):
        """Add `listener`; connecting the same one twice is a no-op."""
        if listener not in self._listeners:
            self._listeners.append(listener)
        return listener

    def disconnect(self, listener):
        if listener in self._listeners:
            self._listeners.remove(listener)

    def send(self, *news):
        for listener in list(self._listeners):
            listener(*news)
