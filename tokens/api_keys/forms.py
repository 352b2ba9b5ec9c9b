"""Portal forms for API keys; the services decide what is allowed."""

from django import forms

from accounts.services import is_organization_account

from ..forms import ScopePickerForm, ServiceErrorsMixin, acts_as, grace_field
from ..models import Reach

REACH_CHOICES = [
    (Reach.APP, "This organization (app)"),
    (Reach.ACCOUNT, "Every organization of the group (account; group owners)"),
]


class ApiKeyCreateForm(ServiceErrorsMixin, ScopePickerForm):
    """Create an API key: name, reach, the service account it acts as (admins), JWTs, scopes."""

    field_order = ["name", "reach", "owner", "allow_jwt", "scopes", "all_of"]

    name = forms.CharField(required=False, strip=True)
    reach = forms.ChoiceField(required=False, choices=REACH_CHOICES, initial=Reach.APP)
    owner = forms.ChoiceField(required=False)
    allow_jwt = forms.BooleanField(required=False, initial=True)

    def __init__(self, data=None, *, membership, service_accounts=()):
        super().__init__(data, membership=membership)
        if membership.is_admin:
            # The organization's own account is the default (""), not a second choice.
            self.service_accounts = {
                str(m.pk): m for m in service_accounts if not is_organization_account(m)
            }
            self.fields["owner"].choices = [
                ("", f"{membership.organization.name} (organization)")
            ] + [(pk, acts_as(m)) for pk, m in self.service_accounts.items()]
        else:
            del self.fields["owner"]

    def clean_reach(self):
        return self.cleaned_data.get("reach") or Reach.APP

    def clean_owner(self):
        key = self.cleaned_data.get("owner") or ""
        if not key:
            return None
        return self.service_accounts[key]  # ChoiceField already refused anything else


class ApiKeyRenameForm(ServiceErrorsMixin, forms.Form):
    name = forms.CharField(required=False, strip=True)


class ApiKeyRotateForm(ServiceErrorsMixin, forms.Form):
    service_fields = {"grace_period": "grace"}

    grace = grace_field()
