"""The catalog is the one source of scopes: every scope is checked somewhere, every endpoint declares."""

import pytest
from django.utils.html import escape

from tokens import scopes as catalog
from tokens.permissions import required_scopes
from tokens.schema import api_operations as _operations


def test_every_endpoint_declares_its_scopes():
    undeclared = []
    for path, method, view in _operations():
        try:
            required_scopes(view, method)
        except Exception:
            undeclared.append(f"{method} {path}")
    assert undeclared == []


def test_every_declared_scope_is_in_the_catalog():
    unknown = {
        (f"{method} {path}", scope)
        for path, method, view in _operations()
        for scope in required_scopes(view, method)
        if scope not in catalog.SCOPES
    }
    assert unknown == set()


def test_every_catalog_scope_is_checked_by_at_least_one_endpoint():
    from tokens.schema import operations_by_scope

    unchecked = {scope for scope, operations in operations_by_scope().items() if not operations}
    assert unchecked == set()


@pytest.mark.parametrize("lower,higher", [("guest", "agent"), ("agent", "bot"), ("bot", "admin")])
def test_role_bundles_cascade(lower, higher):
    assert catalog.ROLE_BUNDLES[lower] <= catalog.ROLE_BUNDLES[higher]


def test_bundles_hold_only_catalog_scopes():
    assert set().union(*catalog.ROLE_BUNDLES.values()) <= set(catalog.SCOPES)


def test_a_view_without_required_scopes_is_a_configuration_error():
    from django.core.exceptions import ImproperlyConfigured

    class Forgetful:
        pass

    with pytest.raises(ImproperlyConfigured):
        required_scopes(Forgetful(), "GET")


@pytest.mark.django_db
def test_scopes_page_lists_each_scope_with_its_operations(client):
    html = client.get("/api/docs/scopes/").content.decode()
    for name, scope in catalog.SCOPES.items():
        assert f"<code>{name}</code>" in html and escape(scope.description) in html
    assert "GET /api/v1/tokens" in html


def test_schema_states_scopes_for_every_operation_and_validates():
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema

    schema = SchemaGenerator().get_schema(request=None, public=True)
    validate_schema(schema)
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if path.startswith("/api/v1/"):
                assert "x-required-scopes" in operation, f"{method} {path}"
                if operation["security"] == [{"githubSecretScanningSignature": []}]:
                    # The one operation no Keyward credential may call: GitHub's signature is its
                    # authentication (issue 14), so it names no scope and accepts no bearer.
                    assert (method, path, operation["x-required-scopes"]) == (
                        "post",
                        "/api/v1/secret-scanning/reports",
                        [],
                    )
                    continue
                keyward = [req["keyward"] for req in operation["security"] if "keyward" in req]
                assert keyward == [operation["x-required-scopes"]], f"{method} {path}"


def test_what_a_token_can_do_follows_its_scopes():
    from tokens.schema import operations_allowed

    reader = operations_allowed({"read.me", "read.tokens"})
    assert "GET /api/v1/me" in reader and "GET /api/v1/tokens" in reader
    assert "POST /api/v1/tokens" not in reader
    assert len(operations_allowed(catalog.ROLE_BUNDLES["admin"])) > len(
        operations_allowed(catalog.ROLE_BUNDLES["guest"])
    )
