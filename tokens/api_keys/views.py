"""Developer › API keys: the list, a detail per key, create and rotate (secret shown once), rename, delete.

The flow is `tokens.pages`'; what is an API key's own is below: its form (reach, the account it
acts as, JWTs), its services, what the result page says about the secret a rotation replaced.
"""

import datetime

from django.utils import timezone

from .. import pages
from ..models import ApiKey
from ..usage.views import usage_context
from . import services
from .forms import ApiKeyCreateForm, ApiKeyRenameForm, ApiKeyRotateForm


class ApiKeyPages(pages.CredentialPages):
    model = ApiKey
    name = "api_key"
    id_kwarg = "key_id"
    object_name = "key"
    label = "API keys"
    create_label = "Create API key"
    noun = "API key"
    create_form_class = ApiKeyCreateForm
    rename_form_class = ApiKeyRenameForm
    rotate_form_class = ApiKeyRotateForm
    renamed_message = "API key renamed."
    create_service = staticmethod(services.create_api_key)
    create_fields = ("name", "scopes", "reach", "owner", "allow_jwt")
    rename_service = staticmethod(services.rename_api_key)
    rotate_service = staticmethod(services.rotate_api_key)
    revoke_service = staticmethod(services.revoke_api_key)
    end_overlap_service = staticmethod(services.end_overlap)

    def usage(self, request, key):
        until = key.previous_secret_expires_at
        return usage_context(request, "api_key", key, key.scope, overlap_until=until)

    def secret_context(self, request, key, secret, note):
        extra = {**super().secret_context(request, key, secret, note)}
        extra["rotated"] = note.get("how") == "rotated"
        if note.get("old_until"):
            extra["old_until"] = datetime.datetime.fromisoformat(note["old_until"])
        return extra

    def rotated_note(self, key, issued):
        until = issued.credential.previous_secret_expires_at
        return {
            "how": "rotated",
            "old_until": until.isoformat() if until > timezone.now() else None,
        }

    def deleted_message(self, key):
        return f"API key “{key.name}” ({key.key_id}) deleted."

    def overlap_until(self, key):
        return key.previous_secret_expires_at


api_key_pages = ApiKeyPages()
