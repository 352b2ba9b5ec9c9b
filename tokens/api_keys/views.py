"""Developer › API keys: the list, a detail per key, create and rotate (secret shown once), rename, delete.

The flow is `tokens.pages`'; what is an API key's own is below: its form (reach, the account it
acts as, JWTs), its services, what the result page says about the secret a rotation replaced.
"""

import datetime

from django.urls import reverse
from django.utils import timezone

from accounts.http import client_ip

from .. import pages, scopes
from ..models import ApiKey
from ..schema import operations_allowed
from ..usage.views import usage_context
from . import services
from .forms import ApiKeyCreateForm, ApiKeyRenameForm, ApiKeyRotateForm


def can_do(key):
    """What the key may call today: its scopes cut to what its account's membership allows."""
    member = key.membership
    if member is None:
        return []
    return operations_allowed(scopes.effective(key.scope, member.role, member.developer_access))


class ApiKeyPages(pages.CredentialPages):
    model = ApiKey
    name = "api_key"
    list_name = "api_keys"
    actions = (*pages.CredentialPages.actions, "end_overlap")
    id_kwarg = "key_id"
    folder = "tokens/api_keys"
    object_name = "key"
    label = "API keys"
    noun = "API key"
    sparkline_kind = "api_key"
    changed_event = "api-keys-changed"
    rename_form_class = ApiKeyRenameForm
    rotate_form_class = ApiKeyRotateForm
    renamed_message = "API key renamed."

    def queryset(self, request):
        return super().queryset(request).for_list()

    def create_form(self, request, data=None):
        service_accounts = ()
        if request.membership.is_admin:
            service_accounts = (
                request.organization.memberships.filter(user__is_service_account=True)
                .select_related("user", "organization")
                .order_by("user__email")
            )
        return ApiKeyCreateForm(
            data, membership=request.membership, service_accounts=service_accounts
        )

    def create(self, request, form):
        data = form.cleaned_data
        return services.create_api_key(
            issuer=request.membership,
            name=data["name"],
            scopes=data["scope_names"],
            reach=data["reach"],
            owner=data.get("owner"),
            allow_jwt=data["allow_jwt"],
            ip=client_ip(request),
        )

    def detail_context(self, request, key, **extra):
        return {
            "key": key,
            "can_do": can_do(key),
            "rename_form": ApiKeyRenameForm(),
            "rotate_form": ApiKeyRotateForm(),
            **extra,
        }

    def usage(self, request, key):
        until = key.previous_secret_expires_at
        return usage_context(request, "api_key", key, key.scope, overlap_until=until)

    def secret_context(self, request, key, secret, note):
        extra = {
            "new_key": key,
            "rotated": note.get("how") == "rotated",
            "api_me_url": request.build_absolute_uri(reverse("api_me")),
        }
        if note.get("old_until"):
            extra["old_until"] = datetime.datetime.fromisoformat(note["old_until"])
        return extra

    def rename(self, request, key, form):
        name = form.cleaned_data["name"]
        services.rename_api_key(key=key, name=name, by=request.user, ip=client_ip(request))

    def rotate(self, request, key, form):
        grace = form.cleaned_data["grace"]
        return services.rotate_api_key(key=key, grace=grace, by=request.user, ip=client_ip(request))

    def rotated_note(self, key, issued):
        until = issued.credential.previous_secret_expires_at
        return {
            "how": "rotated",
            "old_until": until.isoformat() if until > timezone.now() else None,
        }

    def deleted_message(self, key):
        return f"API key “{key.name}” ({key.key_id}) deleted."

    def revoke(self, request, key):
        services.revoke_api_key(key=key, by=request.user, ip=client_ip(request))

    def overlap_until(self, key):
        return key.previous_secret_expires_at

    def end_overlap(self, request, key):
        services.end_overlap(key=key, by=request.user, ip=client_ip(request))


api_key_pages = ApiKeyPages()
