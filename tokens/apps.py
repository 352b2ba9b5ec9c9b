from django.apps import AppConfig


class TokensConfig(AppConfig):
    name = "tokens"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from accounts import services as accounts

        from .review import services as review

        # accounts may not import tokens: a member's narrowed access opens the review this way.
        accounts.on_member_change(review.open_for_change)
