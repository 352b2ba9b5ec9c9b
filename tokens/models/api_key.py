from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import Membership, Organization, Role

from .kinds import CredentialKind, Reach


class ApiKeyQuerySet(models.QuerySet):
    def live(self, now=None):
        now = now or timezone.now()
        return self.filter(Q(revoked_at__isnull=True) | Q(revoked_at__gt=now))

    def visible_to(self, member, *, org_wide=True):
        """Live keys `member` (a Membership, or an API Principal) may see and manage: the keys
        they created, or with `org_wide` every key of the organization for admins."""
        keys = self.live().filter(organization_id=member.organization_id)
        if org_wide and member.role == Role.ADMIN:
            return keys
        return keys.filter(created_by_id=member.user_id)

    def for_list(self):
        return self.select_related("membership__user", "membership__organization", "created_by")


class ApiKey(models.Model):
    """Smooch's API key: a public key id and a secret, for Basic auth or caller-signed JWTs.

    The secret is kept as a SHA-256 digest for Basic auth; only keys that allow JWTs
    also keep it sealed (encrypted with SECRET_ENCRYPTION_KEYS), because verifying an
    HS256 signature needs the secret itself. Rotation keeps the previous secret until
    `previous_secret_expires_at` (the grace period).
    """

    key_id = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=100)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="api_keys"
    )
    # The service account the key acts as (the organization's own, or one an admin picked).
    membership = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="api_keys"
    )
    scope = models.TextField()
    reach = models.CharField(max_length=8, choices=Reach.choices, default=Reach.APP)
    allow_jwt = models.BooleanField(default=True)
    secret_digest = models.CharField(max_length=64)
    sealed_secret = models.TextField(blank=True)
    secret_last4 = models.CharField(max_length=4)
    previous_secret_digest = models.CharField(max_length=64, blank=True)
    previous_sealed_secret = models.TextField(blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    credential_kind = CredentialKind.API_KEY

    def __str__(self):
        return self.name

    def __repr__(self):
        return f"<ApiKey {self.key_id} …{self.secret_last4}>"

    @property
    def last4(self):
        return self.secret_last4

    @property
    def scope_list(self):
        from .. import scopes

        return scopes.ordered(self.scope.split())
