from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import Organization

from .kinds import CredentialKind


class ReviewItemQuerySet(models.QuerySet):
    def open(self):
        return self.filter(decided_at__isnull=True)


class ReviewItem(models.Model):
    """A credential an admin must decide on because its member left or lost access (offboarding).

    The member is kept by user and email, since removing a member nulls the membership
    on their credentials; the credential by kind and id, like the audit log.
    """

    class Reason(models.TextChoices):
        REMOVED = "removed", "Member removed"
        DEVELOPER_ACCESS_LOST = "developer_access_lost", "Developer access withdrawn"
        DEMOTED = "demoted", "Role lowered below the credential's scopes"

    class Decision(models.TextChoices):
        REVOKED = "revoked", "Revoked"
        KEPT = "kept", "Kept (narrowed to the member's access)"
        REISSUED = "reissued", "Re-issued to a service account"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="review_items"
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    member_email = models.EmailField()
    reason = models.CharField(max_length=24, choices=Reason.choices)
    detail = models.CharField(max_length=255, blank=True)
    credential_kind = models.CharField(max_length=20, choices=CredentialKind.choices)
    credential_id = models.BigIntegerField()
    credential_name = models.CharField(max_length=100, blank=True)
    credential_last4 = models.CharField(max_length=4, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    decision = models.CharField(max_length=10, choices=Decision.choices, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The credential a re-issue created (same kind).
    replacement_id = models.BigIntegerField(null=True, blank=True)

    objects = ReviewItemQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["credential_kind", "credential_id"],
                condition=Q(decided_at__isnull=True),
                name="one_open_review_per_credential",
            ),
        ]

    def __str__(self):
        return f"Review of {self.credential_kind} {self.credential_id} ({self.member_email})"

    @property
    def last4(self):
        return self.credential_last4
