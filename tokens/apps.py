from django.apps import AppConfig


class TokensConfig(AppConfig):
    name = "tokens"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.core.signals import request_finished, request_started

        from accounts import services as accounts

        from . import audit, kinds
        from .bearer.authentication import drop_unread_lookup, send_lookup_ahead
        from .review import services as review

        kinds.load()  # every kind's description (tokens/<kind>/kind.py), read by name
        request_started.connect(send_lookup_ahead, dispatch_uid="keyward-send-lookup-ahead")
        request_finished.connect(drop_unread_lookup, dispatch_uid="keyward-drop-unread-lookup")

        # accounts may not import tokens: it announces its changes, and tokens audits each one
        # and opens the offboarding review when a member's access narrows.
        accounts.changes.connect(audit.record_account_change)
        accounts.changes.connect(review.on_account_change)
