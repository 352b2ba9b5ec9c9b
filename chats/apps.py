from django.apps import AppConfig


class ChatsConfig(AppConfig):
    name = "chats"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from accounts import services as accounts
        from tokens import audit, lifecycle

        from . import events

        # Neither accounts nor tokens may import chats, so chats listens to their one writers.
        # tokens is ready first (INSTALLED_APPS order): its review items exist when we announce.
        audit.listen(events.on_audit_event)  # credential.created / rotated / revoked
        lifecycle.connect(
            events.emit
        )  # credential.expiring / expired / leaked, from tokens' workers
        accounts.on_member_change(events.on_member_change)
