"""Portal forms: they parse what a person typed; the services decide what is allowed.

Rules (name, scopes beyond the role, the org's expiry policy) live in
`tokens.services` only, so the forms accept anything well-formed and show the
service's `Refused` next to the field it names.
"""

import datetime

from django import forms
from django.utils import timezone
from django.utils.text import slugify

from . import scopes as catalog
from . import services

NO_EXPIRY = "none"
ON_A_DATE = "date"
DEFAULT_EXPIRY_DAYS = 30

GRACE_LABELS = {
    "none": "No grace: the old secret stops working now",
    "1h": "1 hour",
    "24h": "24 hours",
    "7d": "7 days",
}


def start_of_day(day):
    """A picked date means "expires when that day begins", so a date at the policy's cap still fits it."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


class ServiceErrorsMixin:
    # The services name their fields after their own arguments.
    service_fields = {}

    def add_service_error(self, exc):
        """Show a service's `Refused` next to the field it names (or above the form)."""
        field = self.service_fields.get(exc.field, exc.field)
        self.add_error(field if field in self.fields else None, exc.message)


class TokenCreateForm(ServiceErrorsMixin, forms.Form):
    """Generate a personal token: name, expiry, scopes (picked per domain or by role), owner for admins."""

    service_fields = {"expires_at": "expiry"}

    name = forms.CharField(required=False, strip=True)
    expiry = forms.ChoiceField(
        choices=[(NO_EXPIRY, "No expiry")]
        + [(str(days), f"{days} days") for days in services.EXPIRY_CHOICES_DAYS]
        + [(ON_A_DATE, "On a date…")],
    )
    expires_on = forms.DateField(required=False)
    scopes = forms.MultipleChoiceField(
        required=False, choices=[(name, name) for name in [*catalog.SCOPES, *catalog.ROLE_BUNDLES]]
    )
    all_of = forms.MultipleChoiceField(
        required=False, choices=[(domain.name, domain.name) for domain in catalog.DOMAINS]
    )
    owner = forms.ChoiceField(required=False)

    def __init__(self, data=None, *, membership, policy, service_accounts=()):
        super().__init__(data)
        self.membership = membership
        self.policy = policy
        self.allowed = catalog.allowed_for(membership.role, membership.has_developer_access)
        self.fields["expiry"].initial = self._default_expiry()
        if membership.is_admin:
            self.service_accounts = {str(m.pk): m for m in service_accounts}
            self.fields["owner"].choices = [("", "Me")] + [
                (pk, m.user.email) for pk, m in self.service_accounts.items()
            ]
        else:
            del self.fields["owner"]

    # What the template shows: only the expiry choices the policy allows.

    @property
    def expiry_options(self):
        options = []
        for value, label in self.fields["expiry"].choices:
            if value == NO_EXPIRY and self.policy.require_expiry:
                continue
            if value.isdigit() and self.policy.max_lifetime_days and int(value) > self.policy.max_lifetime_days:
                continue
            options.append((value, label))
        return options

    def _default_expiry(self):
        values = [value for value, _ in self.expiry_options]
        return str(DEFAULT_EXPIRY_DAYS) if str(DEFAULT_EXPIRY_DAYS) in values else values[0]

    @property
    def date_min(self):
        return timezone.localdate() + datetime.timedelta(days=1)

    @property
    def date_max(self):
        if self.policy.max_lifetime_days:
            return timezone.localdate() + datetime.timedelta(days=self.policy.max_lifetime_days)
        return None

    def _raw(self, name):
        return set(self.data.getlist(name)) if self.is_bound else set()

    def scope_groups(self):
        """The catalog's domains, each scope marked allowed (within the member's role) and checked."""
        checked, all_of = self._raw("scopes"), self._raw("all_of")
        groups = []
        for domain in catalog.DOMAINS:
            scopes = [
                {
                    "name": scope.name,
                    "description": scope.description,
                    "allowed": scope.name in self.allowed,
                    "checked": scope.name in checked,
                }
                for scope in domain.scopes
            ]
            groups.append({
                "name": domain.name,
                "slug": slugify(domain.name),
                "all": domain.name in all_of,
                "any_allowed": any(scope["allowed"] for scope in scopes),
                "scopes": scopes,
            })
        return groups

    def presets(self):
        """The role bundles, usable as presets when they fit within the member's role."""
        checked = self._raw("scopes")
        return [
            {
                "name": role,
                "description": catalog.ROLE_DESCRIPTIONS.get(role, ""),
                "scopes": " ".join(catalog.ordered(bundle)),
                "allowed": bundle <= self.allowed,
                "checked": role in checked,
            }
            for role, bundle in catalog.ROLE_BUNDLES.items()
        ]

    # Parsing.

    def clean_owner(self):
        key = self.cleaned_data.get("owner") or ""
        if not key:
            return None
        return self.service_accounts[key]  # ChoiceField already refused anything else

    def clean(self):
        data = super().clean()
        expiry = data.get("expiry")
        if expiry == ON_A_DATE:
            if data.get("expires_on") is None:
                self.add_error("expires_on", "Pick the date the token expires on.")
            else:
                data["expires_at"] = start_of_day(data["expires_on"])
        elif expiry == NO_EXPIRY:
            data["expires_at"] = None
        elif expiry:
            data["expires_at"] = timezone.now() + datetime.timedelta(days=int(expiry))
        # "All of this domain" stands for every scope of it the member may grant.
        names = list(data.get("scopes", []))
        chosen_domains = set(data.get("all_of", []))
        for domain in catalog.DOMAINS:
            if domain.name in chosen_domains:
                names += [scope.name for scope in domain.scopes if scope.name in self.allowed]
        data["scope_names"] = list(dict.fromkeys(names))
        return data


class TokenRenameForm(ServiceErrorsMixin, forms.Form):
    name = forms.CharField(required=False, strip=True)


class TokenRotateForm(ServiceErrorsMixin, forms.Form):
    grace_period = forms.ChoiceField(
        label="Old secret keeps working for",
        choices=[(key, GRACE_LABELS.get(key, key)) for key in services.GRACE_PERIODS],
        initial="none",
    )


class TokenPolicyForm(ServiceErrorsMixin, forms.Form):
    """The organization's rules for personal tokens; empty numbers mean no cap."""

    require_expiry = forms.BooleanField(required=False, label="Every new token must have an expiry")
    max_lifetime_days = forms.IntegerField(
        required=False, label="Longest lifetime of a new token (days)",
        help_text="Empty: no cap.",
    )
    max_live_tokens_per_member = forms.IntegerField(
        required=False, label="Live tokens one member may own",
        help_text="Empty: no cap.",
    )
