"""Bearer credentials: django-oauth-toolkit's models, swapped into `tokens`.

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

from accounts.models import Membership, Organization, Role

from .kinds import CredentialKind, Reach


class ApplicationQuerySet(models.QuerySet):
    def visible_to(self, who, *, org_wide=True):
        """The OAuth clients `who` (a membership or an API principal) may see and manage: every
        one of the organization for an admin (`org_wide`), else the ones they registered."""
        clients = self.filter(organization_id=who.organization_id)
        if not (org_wide and who.role == Role.ADMIN):
            clients = clients.filter(created_by_id=who.user_id)
        return clients.select_related("created_by").order_by("-created", "-id")


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

    objects = ApplicationQuerySet.as_manager()

    class Meta(AbstractApplication.Meta):
        swappable = "OAUTH2_PROVIDER_APPLICATION_MODEL"

    # Keyward's own login client (tokens.login). It mints and refreshes only through
    # /api/v1/auth/token; DOT's /o/ endpoints refuse it, so no pair escapes our checks.
    LOGIN_CLIENT_ID = "keyward-login"

    credential_kind = CredentialKind.OAUTH_CLIENT

    def __repr__(self):
        return f"<Application {self.pk} {self.name!r}>"

    @property
    def last4(self):
        return self.secret_last4

    def is_usable(self, request):
        return self.client_id != self.LOGIN_CLIENT_ID

    def get_allowed_schemes(self):
        # ALLOWED_REDIRECT_URI_SCHEMES is https only; a native app's registered loopback
        # redirect (RFC 8252 §7.3, the only http URI tokens.oauth.services accepts) adds http
        # for this client alone.
        schemes = list(super().get_allowed_schemes())
        if "http" not in schemes and any(
            uri.startswith("http://") for uri in self.redirect_uris.split()
        ):
            schemes.append("http")
        return schemes


class Kind(models.TextChoices):
    """The kinds of credential kept as an AccessToken row (a subset of CredentialKind)."""

    PERSONAL = CredentialKind.PERSONAL.value, CredentialKind.PERSONAL.label
    LOGIN = CredentialKind.LOGIN.value, CredentialKind.LOGIN.label
    OAUTH = CredentialKind.OAUTH.value, CredentialKind.OAUTH.label


def membership_id_of(member):
    """A Membership's id, or the one an API Principal names."""
    return member.membership_id if hasattr(member, "membership_id") else member.pk


class AccessTokenQuerySet(models.QuerySet):
    def live(self, now=None):
        now = now or timezone.now()
        return self.filter(
            Q(expires__isnull=True) | Q(expires__gt=now),
            Q(revoked_at__isnull=True) | Q(revoked_at__gt=now),
        )

    def personal(self):
        return self.filter(kind=Kind.PERSONAL)

    def unrevoked(self, now=None):
        """Not yet dead: a rotated token stays while its old secret still works."""
        return self.exclude(revoked_at__lte=now or timezone.now())

    def for_list(self, now=None):
        """With `previous_secret_until`: when the previous secret of a rotation stops working
        (None outside an overlap)."""
        previous = (
            AccessToken.objects.filter(rotated_into=models.OuterRef("pk"))
            .exclude(revoked_at__lte=now or timezone.now())
            .order_by("-revoked_at")
            .values("revoked_at")[:1]
        )
        return (
            self.select_related("user", "created_by", "membership")
            .annotate(previous_secret_until=models.Subquery(previous))
            .order_by("-created", "-id")
        )

    def oauth_grants(self, *, organization_id, user_id=None, now=None):
        """OAuth access tokens in force in an organization (one person's grants with `user_id`):
        not revoked, and unexpired or renewable by a live refresh token."""
        now = now or timezone.now()
        grants = self.filter(kind=Kind.OAUTH, organization_id=organization_id).filter(
            Q(revoked_at__isnull=True) | Q(revoked_at__gt=now),
            Q(expires__gt=now)
            | Q(refresh_token__isnull=False, refresh_token__revoked__isnull=True),
        )
        if user_id is not None:
            grants = grants.filter(user_id=user_id)
        return grants.select_related("application").order_by("-created", "-id")

    def visible_to(self, member, *, org_wide=True):
        """Personal tokens `member` (a Membership, or an API Principal) may see and manage: their
        own, or with `org_wide` every one of the organization for admins. Revoked tokens are gone;
        a rotated one is its successor's previous secret, shown with it (one rotated before
        tokens knew their successor stays while its old secret still works)."""
        tokens = (
            self.personal()
            .filter(organization_id=member.organization_id, rotated_into__isnull=True)
            .unrevoked()
        )
        if org_wide and member.role == Role.ADMIN:
            return tokens
        return tokens.filter(membership_id=membership_id_of(member))


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
    # A rotated token's successor: the two are one credential with two secrets while the old one
    # still works (its revoked_at in the future), listed once, as the successor.
    rotated_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="rotated_from"
    )

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

    def previous_secrets(self, now=None):
        """The earlier secrets of this credential still working (rotations in their overlap)."""
        return AccessToken.objects.filter(rotated_into=self).exclude(
            revoked_at__lte=now or timezone.now()
        )

    @property
    def credential_kind(self):
        return self.kind

    @property
    def scope_list(self):
        from .. import scopes

        return scopes.ordered(self.scope.split())

    def revoke(self):
        """Soft revoke, so a revoked token answers `token_revoked` rather than `invalid_token`."""
        self.revoked_at = timezone.now()
        self.save(update_fields=["revoked_at", "updated"])


class RefreshToken(AbstractRefreshToken):
    class Meta(AbstractRefreshToken.Meta):
        swappable = "OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL"

    def __repr__(self):
        return f"<RefreshToken {self.pk}>"
