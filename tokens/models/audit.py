from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.models import Organization

from .kinds import CredentialKind


class AuditEvent(models.Model):
    """Who did what to which credential (or member, organization, group), when and from where.

    Never a secret or a digest. Written only by `tokens.audit`.
    """

    class Action(models.TextChoices):
        ISSUED = "issued", "Issued"
        RENAMED = "renamed", "Renamed"
        ROTATED = "rotated", "Rotated"
        REVOKED = "revoked", "Revoked"
        LEAKED = "leaked", "Reported leaked"
        SECRET_SHOWN = "secret_shown", "Secret shown"
        POLICY_CHANGED = "policy_changed", "Policy changed"
        LIMITS_CHANGED = "limits_changed", "Limits changed"
        INVITED = "invited", "Invited"
        MEMBER_ADDED = "member_added", "Member added"
        MEMBER_CHANGED = "member_changed", "Member changed"
        MEMBER_REMOVED = "member_removed", "Member removed"
        ORGANIZATION_CHANGED = "org_changed", "Organization changed"
        GROUP_CHANGED = "group_changed", "Group changed"
        GROUP_DELETED = "group_deleted", "Group deleted"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="audit_events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=20, choices=Action.choices)
    credential_kind = models.CharField(max_length=20, blank=True, choices=CredentialKind.choices)
    credential_id = models.BigIntegerField(null=True, blank=True)
    credential_name = models.CharField(max_length=100, blank=True)
    credential_last4 = models.CharField(max_length=4, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    detail = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "-created_at"], name="audit_org_time")]

    def __str__(self):
        return f"{self.action} {self.credential_kind} {self.credential_id}"
