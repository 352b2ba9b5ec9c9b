from django.db import models
from django.utils import timezone

from .kinds import CredentialKind


class ExpiryReminder(models.Model):
    """One expiry reminder of one credential. The row is the claim: whoever inserts it sends,
    and the unique constraint turns every other scheduler's insert into a no-op."""

    class Stage(models.TextChoices):
        WEEK_BEFORE = "7d", "7 days before"
        ON_THE_DAY = "day0", "On the day"

    credential_kind = models.CharField(max_length=20, choices=CredentialKind.choices)
    credential_id = models.BigIntegerField()
    stage = models.CharField(max_length=4, choices=Stage.choices)
    expires = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["credential_kind", "credential_id", "stage"], name="one_reminder_per_stage"
            )
        ]

    def __str__(self):
        return f"{self.stage} reminder of {self.credential_kind} {self.credential_id}"
