"""What every kind's portal forms share: showing a service's refusal, the grace periods, and
the scope picker.

Forms parse what a person typed; the services decide what is allowed (names,
scopes beyond the role, policies), so a form accepts anything well-formed and
shows the service's `Refused` next to the field it names.
"""

from django import forms
from django.utils import timezone
from django.utils.text import slugify

from accounts.services import is_organization_account

from . import scopes as catalog
from .rules import GRACE_PERIODS

GRACE_LABELS = {
    "none": "None: the old secret stops working at once",
    "1h": "1 hour",
    "24h": "24 hours",
    "7d": "7 days",
}
GRACE_CHOICES = [(key, GRACE_LABELS.get(key, key)) for key in GRACE_PERIODS]
GRACE_REQUIRED = "Pick how long the old secret keeps working."


def grace_field(label="Old secret keeps working for"):
    """The grace period of a rotation: a deliberate choice, nothing preselected."""
    return forms.ChoiceField(
        label=label,
        choices=GRACE_CHOICES,
        widget=forms.RadioSelect,
        error_messages={"required": GRACE_REQUIRED},
    )


def grace_consequence(grace, now=None):
    """What happens to the old secret, in words, and until when (None: it stops at once)."""
    period = GRACE_PERIODS[grace]
    if not period:
        return {"until": None, "text": "The old secret stops working at once"}
    until = (now or timezone.now()) + period
    return {
        "until": until,
        "text": f"The old secret keeps working for {GRACE_LABELS[grace]}, until",
    }


def acts_as(membership):
    """Who a credential acts as, in words: "Acme (organization)", "CI bot (service account)" or an email."""
    if membership is None:
        return "(member removed)"
    user = membership.user
    if is_organization_account(membership):
        return f"{membership.organization.name} (organization)"
    if user.is_service_account:
        return f"{user.name or user.email} (service account)"
    return user.email


class ServiceErrorsMixin:
    # The services name their fields after their own arguments.
    service_fields = {}

    def add_service_error(self, exc):
        """Show a service's `Refused` next to the field it names (or above the form)."""
        field = self.service_fields.get(exc.field, exc.field)
        self.add_error(field if field in self.fields else None, exc.message)


ACCESS_LEVELS = ("none", "read", "write", "all")


def access_level(scope_name):
    """The least of the picker's per-domain levels that includes a scope: reading is "read",
    deleting only "all", anything else (create, update, …) "write"."""
    action = scope_name.split(".", 1)[0]
    return {"read": "read", "delete": "all"}.get(action, "write")


class ScopePickerForm(forms.Form):
    """The scope picker (templates/tokens/partials/scope_picker.html): scopes grouped by domain,
    "All of <domain>", and the role bundles as presets; `cleaned_data["scope_names"]` is what
    was picked. A subclass passes the picking `membership`; what it may grant is `self.allowed`."""

    scopes = forms.MultipleChoiceField(
        required=False, choices=[(name, name) for name in [*catalog.SCOPES, *catalog.ROLE_BUNDLES]]
    )
    all_of = forms.MultipleChoiceField(
        required=False, choices=[(domain.name, domain.name) for domain in catalog.DOMAINS]
    )

    def __init__(self, data=None, *, membership, **kwargs):
        super().__init__(data, **kwargs)
        self.membership = membership
        self.allowed = catalog.allowed_for(membership.role, membership.has_developer_access)

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
                    "level": access_level(scope.name),
                }
                for scope in domain.scopes
            ]
            groups.append(
                {
                    "name": domain.name,
                    "slug": slugify(domain.name),
                    "all": domain.name in all_of,
                    "any_allowed": any(scope["allowed"] for scope in scopes),
                    "any_checked": domain.name in all_of
                    or any(scope["checked"] for scope in scopes),
                    "scopes": scopes,
                }
            )
        return groups

    def read_only(self):
        """The "Read only" preset: every read scope the member may grant."""
        return " ".join(
            name for name in catalog.ordered(self.allowed) if access_level(name) == "read"
        )

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

    def clean(self):
        data = super().clean()
        # "All of this domain" stands for every scope of it the member may grant.
        names = list(data.get("scopes", []))
        chosen_domains = set(data.get("all_of", []))
        for domain in catalog.DOMAINS:
            if domain.name in chosen_domains:
                names += [scope.name for scope in domain.scopes if scope.name in self.allowed]
        data["scope_names"] = list(dict.fromkeys(names))
        return data
