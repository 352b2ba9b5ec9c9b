"""Users, organizations and memberships: the ground floor (imports nothing of ours)."""

import secrets
import string

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.http import Http404
from django.utils import timezone

_ALPHABET = string.ascii_letters + string.digits


def new_public_id(prefix, length=16):
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def new_org_id():
    return new_public_id("org_")


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email, password=None, **fields):
        if not email:
            raise ValueError("A user needs an email address.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)  # None gives an unusable password
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **fields):
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        return self.create_user(email, password, **fields)

    def get_by_natural_key(self, email):
        return self.get(email__iexact=email)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in with an email address, or a service account that never does."""

    email = models.EmailField(unique=True)
    name = models.CharField(max_length=150, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="May log in to the Django admin.")
    is_service_account = models.BooleanField(
        default=False,
        help_text="A machine identity: owns credentials, never logs in with a password.",
    )
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        ordering = ["email"]

    def __str__(self):
        return self.email

    @property
    def display_name(self):
        return self.name or self.email


class OrganizationGroup(models.Model):
    """Several organizations under one account (Smooch's `account` reach)."""

    name = models.CharField(max_length=150)
    slug = models.SlugField(unique=True)
    owners = models.ManyToManyField(User, blank=True, related_name="owned_groups")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Organization(models.Model):
    name = models.CharField(max_length=150)
    slug = models.SlugField(unique=True)
    public_id = models.CharField(
        "Org ID", max_length=32, unique=True, default=new_org_id, editable=False
    )
    group = models.ForeignKey(
        OrganizationGroup,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="organizations",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Role(models.TextChoices):
    """web1on1's levels, in ascending order: each includes the ones below."""

    GUEST = "guest", "Guest"
    AGENT = "agent", "Agent"
    BOT = "bot", "Bot"
    ADMIN = "admin", "Admin"

    @classmethod
    def rank(cls, role):
        return _ROLE_RANK[role]


_ROLE_RANK = {role: rank for rank, role in enumerate(Role.values)}


class MembershipQuerySet(models.QuerySet):
    def with_org(self):
        return self.select_related("organization", "organization__group")

    def of_user_in(self, user, org_id):
        """`user`'s membership of the organization whose public id is `org_id`; 404 when they
        have none (another organization is answered like one that does not exist)."""
        membership = self.with_org().filter(user=user, organization__public_id=org_id).first()
        if membership is None:
            raise Http404("No such organization.")
        return membership


class Membership(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=8, choices=Role.choices, default=Role.AGENT)
    developer_access = models.BooleanField(
        default=False, help_text="May use the developer portal (admins always may)."
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["organization__name", "user__email"]
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="one_membership_per_org")
        ]

    def __str__(self):
        return f"{self.user_id} in {self.organization_id} as {self.role}"

    @property
    def is_admin(self):
        return self.role == Role.ADMIN

    @property
    def has_developer_access(self):
        return self.developer_access or self.role == Role.ADMIN


class InvitationQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(accepted_at__isnull=True)

    def pending_for(self, user):
        """The invitations `user` may accept: pending, addressed to their email."""
        return self.pending().filter(email__iexact=user.email).select_related("organization")


class Invitation(models.Model):
    """An organization's offer of a membership to an email address, until its person accepts it.

    Adding someone never enrolls an existing account by itself: they consent in
    the portal, and the inviter learns nothing about whether the account existed.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField()
    role = models.CharField(max_length=8, choices=Role.choices, default=Role.AGENT)
    developer_access = models.BooleanField(default=False)
    invited_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    accepted_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "email"],
                condition=models.Q(accepted_at__isnull=True),
                name="one_pending_invitation_per_email",
            )
        ]

    def __str__(self):
        return f"invitation {self.pk} to {self.organization_id}"


class ThrottleCounter(models.Model):
    """One throttle counter (accounts.throttle) when REDIS_URL is unset: a key, its count, its window.

    Written only by accounts.throttle's single-statement upsert, never through the ORM,
    so parallel increments cannot lose one.
    """

    key = models.CharField(max_length=100, primary_key=True)
    count = models.IntegerField(default=0)
    window_ends = models.FloatField(
        help_text="Unix time at which the count starts again from zero."
    )

    def __str__(self):
        return f"throttle counter {self.key}"
