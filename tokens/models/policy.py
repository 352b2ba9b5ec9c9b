from django.db import models

from accounts.models import Organization


class TokenPolicy(models.Model):
    """An organization's rules for personal tokens, and for the JWTs its API keys sign."""

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="token_policy"
    )
    require_expiry = models.BooleanField(default=False)
    max_lifetime_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="Longest lifetime a new token may have; empty for no cap."
    )
    max_live_tokens_per_member = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Live personal tokens one member may own; empty for no cap.",
    )
    # Smooch's convention makes `exp` optional, and such a JWT lives until its key is rotated;
    # an organization may refuse that.
    require_jwt_exp = models.BooleanField(default=False, help_text="API-key JWTs must carry `exp`.")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Token policy of {self.organization_id}"
