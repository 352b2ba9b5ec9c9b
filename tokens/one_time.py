"""A new secret as the issuing service hands it out: readable exactly once (Sentry's pattern)."""

from dataclasses import dataclass


class SecretAlreadyShown(Exception):
    pass


class OneTimeSecret:
    """The plaintext of a new secret; `reveal()` returns it once, then it is gone."""

    __slots__ = ("_value",)

    def __init__(self, value):
        self._value = value

    def reveal(self):
        if self._value is None:
            raise SecretAlreadyShown("This secret was already shown once and is gone.")
        value, self._value = self._value, None
        return value

    def __repr__(self):
        return "<OneTimeSecret (hidden)>"

    __str__ = __repr__


@dataclass
class Issued:
    """A credential as created or re-keyed, with its one-time secret (None where it has none,
    e.g. a public OAuth client)."""

    credential: object
    secret: OneTimeSecret | None
