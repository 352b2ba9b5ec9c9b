from django.apps import AppConfig


class ChatsConfig(AppConfig):
    name = "chats"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from accounts import services as accounts
        from tokens import lifecycle

        from . import events

        # Neither accounts nor tokens may import chats, so chats listens to their news (lib.news).
        # tokens is ready first (INSTALLED_APPS order): its review items exist when we announce.
        lifecycle.connect(events.emit)  # every credential event, in one shape
        accounts.changes.connect(events.on_account_change)  # member.access_changed
