"""Portal forms for personal tokens and the token policy; the services decide what is allowed."""

import datetime

from django import forms
from django.utils import timezone

from ..forms import ScopePickerForm, ServiceErrorsMixin, grace_field
from . import services

NO_EXPIRY = "none"
ON_A_DATE = "date"
DEFAULT_EXPIRY_DAYS = 30


def start_of_day(day):
    """A picked date means "expires when that day begins", so a date at the policy's cap still fits it."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


class TokenCreateForm(ServiceErrorsMixin, ScopePickerForm):
    """Generate a personal token: name, expiry, scopes (picked per domain or by role), owner for admins."""

    service_fields = {"expires_at": "expiry"}
    field_order = ["name", "expiry", "expires_on", "scopes", "all_of", "owner"]

    name = forms.CharField(required=False, strip=True)
    expiry = forms.ChoiceField(
        choices=[(NO_EXPIRY, "No expiry")]
        + [(str(days), f"{days} days") for days in services.EXPIRY_CHOICES_DAYS]
        + [(ON_A_DATE, "On a date…")],
    )
    expires_on = forms.DateField(required=False)
    owner = forms.ChoiceField(required=False)

    def __init__(self, data=None, *, membership, policy, service_accounts=()):
        super().__init__(data, membership=membership)
        self.policy = policy
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
            if (
                value.isdigit()
                and self.policy.max_lifetime_days
                and int(value) > self.policy.max_lifetime_days
            ):
                continue
            options.append((value, label))
        return options

    def expiry_days(self):
        """(value, label, the day a token made now would expire on, or None) per option shown:
        the preview under the select says the date, as GitHub's token form does."""
        now = timezone.localtime()
        return [
            (
                value,
                label,
                (now + datetime.timedelta(days=int(value))).date() if value.isdigit() else None,
            )
            for value, label in self.expiry_options
        ]

    def expiry_preview(self):
        """The preview sentence for the option selected now (the page without JavaScript)."""
        chosen = str(self["expiry"].value() or "")
        if chosen == NO_EXPIRY:
            return {"never": True}
        if chosen == ON_A_DATE:
            day = self["expires_on"].value()
            return {"day": day} if day else {"pick": True}
        for value, _label, day in self.expiry_days():
            if value == chosen:
                return {"day": day}
        return {}

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
        return data


class TokenRenameForm(ServiceErrorsMixin, forms.Form):
    name = forms.CharField(required=False, strip=True)


class TokenRotateForm(ServiceErrorsMixin, forms.Form):
    grace_period = grace_field()


class TokenPolicyForm(ServiceErrorsMixin, forms.Form):
    """The organization's rules for personal tokens and API-key JWTs; empty numbers mean no cap."""

    require_expiry = forms.BooleanField(required=False, label="Every new token must have an expiry")
    max_lifetime_days = forms.IntegerField(
        required=False,
        label="Longest lifetime of a new token (days)",
        help_text="Empty: no cap.",
    )
    max_live_tokens_per_member = forms.IntegerField(
        required=False,
        label="Live tokens one member may own",
        help_text="Empty: no cap.",
    )
    require_jwt_exp = forms.BooleanField(
        required=False,
        label="API-key JWTs must carry an expiry (exp)",
        help_text="Off: a JWT without exp is accepted until its key is rotated.",
    )
