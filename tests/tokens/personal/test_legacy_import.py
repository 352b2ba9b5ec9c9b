import io
import sys

import pytest
from django.core.management import CommandError, call_command

from tests.factories import bearer
from tokens.models import AccessToken

pytestmark = pytest.mark.django_db

LEGACY = "94c70d470e391bdc16a8d8363b5d4891"


def _import(monkeypatch, org, raw=LEGACY):
    monkeypatch.setattr(sys, "stdin", io.StringIO(raw + "\n"))
    out = io.StringIO()
    call_command("import_legacy_token", "--org", org.slug, stdout=out)
    return out.getvalue()


def test_import_keeps_only_the_digest_named_after_the_org(monkeypatch, org):
    output = _import(monkeypatch, org)
    token = AccessToken.objects.get()
    assert token.name == "Acme API Client"
    assert token.token == "" and LEGACY not in output
    assert token.last4 == LEGACY[-4:]


def test_imported_token_authenticates_like_any_other_with_admin_scopes(monkeypatch, api, org):
    _import(monkeypatch, org)
    response = api.get("/api/v1/tokens?scope=org", **bearer(LEGACY))
    assert response.status_code == 200
    assert set(AccessToken.objects.get().scope.split()) >= {
        "read.me",
        "read.tokens",
        "delete.tokens",
    }


def test_importing_the_same_token_twice_is_refused(monkeypatch, org):
    _import(monkeypatch, org)
    with pytest.raises(CommandError, match="already imported"):
        _import(monkeypatch, org)


def test_unknown_org_is_a_clear_error(monkeypatch, org):
    monkeypatch.setattr(sys, "stdin", io.StringIO(LEGACY))
    with pytest.raises(CommandError, match="No organization"):
        call_command("import_legacy_token", "--org", "nope")
