"""Credentials: django-oauth-toolkit's models swapped in, plus policy and audit.

Only digests of secrets are stored (`token_checksum`, DOT's hashed storage);
the plaintext lives on the object a service returns, once.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from oauth2_provider.models import (
    AbstractAccessToken,
    AbstractApplication,
    AbstractRefreshToken,
)

from accounts.models import Membership, Organization


class Application(AbstractApplication):
    """An OAuth client; Keyward's own first-party login client is one too."""

    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="applications"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_ip = models.GenericIPAddressField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    # RFC 7662: only clients an admin trusts may ask about other tokens.
    allow_introspection = models.BooleanField(default=False)
    secret_last4 = models.CharField(max_length=4, blank=True)

    class Meta(AbstractApplication.Meta):
        swappable = "OAUTH2_PROVIDER_APPLICATION_MODEL"

    # Keyward's own login client (tokens.login). It mints and refreshes only through
    # /api/v1/auth/token; DOT's /o/ endpoints refuse it, so no pair escapes our checks.
    LOGIN_CLIENT_ID = "keyward-login"

    def __repr__(self):
        return f"<Application {self.pk} {self.name!r}>"

    def is_usable(self, request):
        return self.client_id != self.LOGIN_CLIENT_ID


class Kind(models.TextChoices):
    PERSONAL = "personal", "Personal access token"
    LOGIN = "login", "Login token"
    OAUTH = "oauth", "OAuth access token"


class Reach(models.TextChoices):
    """How far a credential reaches (Smooch's scope of access): appUser < app < account."""

    APP_USER = "appUser", "One end user's own conversations"
    APP = "app", "This organization"
    ACCOUNT = "account", "Every organization of the organization group"


class AccessTokenQuerySet(models.QuerySet):
    def live(self, now=None):
        now = now or timezone.now()
        return self.filter(
            Q(expires__isnull=True) | Q(expires__gt=now),
            Q(revoked_at__isnull=True) | Q(revoked_at__gt=now),
        )

    def personal(self):
        return self.filter(kind=Kind.PERSONAL)

    def for_list(self):
        return self.select_related("user", "created_by", "membership").order_by("-created", "-id")


class AccessToken(AbstractAccessToken):
    """Every bearer credential: personal, login and OAuth tokens, told apart by `kind`."""

    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.OAUTH)
    name = models.CharField(max_length=100, blank=True)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="access_tokens"
    )
    # Removing a member nulls this, and a token without a membership authenticates no one.
    membership = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="access_tokens"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_ip = models.GenericIPAddressField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=255, blank=True)
    last4 = models.CharField("last 4 characters", max_length=4, blank=True)
    # No expiry is allowed for personal tokens (unless the org's policy requires one).
    expires = models.DateTimeField(null=True, blank=True)
    # May lie in the future: a rotated token keeps working until its grace period ends.
    revoked_at = models.DateTimeField(null=True, blank=True)
    reach = models.CharField(max_length=8, choices=Reach.choices, default=Reach.APP)
    # For appUser reach: the external id of the contact (end user) the token is limited to.
    app_user_id = models.CharField(max_length=100, blank=True)

    objects = AccessTokenQuerySet.as_manager()

    class Meta(AbstractAccessToken.Meta):
        swappable = "OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL"
        indexes = [models.Index(fields=["organization", "kind", "-created"], name="token_org_kind")]

    def __str__(self):
        return self.name or f"{self.get_kind_display()} {self.pk}"

    def __repr__(self):
        return f"<AccessToken {self.pk} {self.kind} …{self.last4}>"

    def is_expired(self):
        return self.expires is not None and timezone.now() >= self.expires

    def is_revoked(self, now=None):
        return self.revoked_at is not None and (now or timezone.now()) >= self.revoked_at

    def is_live(self):
        return not self.is_expired() and not self.is_revoked()

    @property
    def scope_list(self):
        from . import scopes

        return scopes.ordered(self.scope.split())

    @property
    def owner(self):
        return self.user

    def revoke(self):
        """Soft revoke, so a revoked token answers `token_revoked` rather than `invalid_token`."""
        self.revoked_at = timezone.now()
        self.save(update_fields=["revoked_at", "updated"])


class RefreshToken(AbstractRefreshToken):
    class Meta(AbstractRefreshToken.Meta):
        swappable = "OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL"

    def __repr__(self):
        return f"<RefreshToken {self.pk}>"


class TokenPolicy(models.Model):
    """An organization's rules for personal tokens."""

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="token_policy"
    )
    require_expiry = models.BooleanField(default=False)
    max_lifetime_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="Longest lifetime a new token may have; empty for no cap."
    )
    max_live_tokens_per_member = models.PositiveIntegerField(
        null=True, blank=True, help_text="Live personal tokens one member may own; empty for no cap."
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Token policy of {self.organization_id}"


class AuditEvent(models.Model):
    """Who did what to which credential, when and from where (never a secret or digest)."""

    class Action(models.TextChoices):
        ISSUED = "issued", "Issued"
        RENAMED = "renamed", "Renamed"
        ROTATED = "rotated", "Rotated"
        REVOKED = "revoked", "Revoked"
        SECRET_SHOWN = "secret_shown", "Secret shown"
        POLICY_CHANGED = "policy_changed", "Policy changed"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="audit_events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=20, choices=Action.choices)
    credential_kind = models.CharField(max_length=20, blank=True)
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


class ApiKeyQuerySet(models.QuerySet):
    def live(self, now=None):
        now = now or timezone.now()
        return self.filter(Q(revoked_at__isnull=True) | Q(revoked_at__gt=now))


class ApiKey(models.Model):
    """Smooch's API key: a public key id and a secret, for Basic auth or caller-signed JWTs.

    The secret is kept as a SHA-256 digest for Basic auth; only keys that allow JWTs
    also keep it sealed (encrypted with SECRET_ENCRYPTION_KEYS), because verifying an
    HS256 signature needs the secret itself. Rotation keeps the previous secret until
    `previous_secret_expires_at` (the grace period).
    """

    key_id = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=100)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="api_keys")
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

    def __str__(self):
        return self.name

    def __repr__(self):
        return f"<ApiKey {self.key_id} …{self.secret_last4}>"

    @property
    def scope_list(self):
        from . import scopes

        return scopes.ordered(self.scope.split())


class SigningKey(models.Model):
    """A key pair that signs login tokens (JWTs); its public half is published at /.well-known/jwks.json.

    The private key is kept sealed (tokens.sealing). The newest unretired key signs;
    a retired key stays published until every token it signed has expired.
    """

    kid = models.CharField("key id", max_length=64, unique=True)
    algorithm = models.CharField(max_length=10, default="EdDSA")
    public_jwk = models.JSONField()
    sealed_private_key = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"Signing key {self.kid}"

    def __repr__(self):
        return f"<SigningKey {self.kid} {self.algorithm}>"
