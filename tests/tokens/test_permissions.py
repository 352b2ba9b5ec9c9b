"""The scope check: a grant this process worked out once is reused only for the same view
class, method, action and scopes held."""

import pytest
from django.test import RequestFactory
from rest_framework.response import Response
from rest_framework.views import APIView

from tests.factories import bearer, issue
from tokens import permissions

pytestmark = pytest.mark.django_db


def _code(response):
    return response.status_code, response.json().get("code") if response.content else None


def test_a_grant_is_never_reused_for_another_action_method_or_scope_set(api, dev):
    token, reader = issue(dev, scopes=["read.tokens"])
    _other, me_only = issue(dev, scopes=["read.me"], name="me only")
    for _ in range(2):  # the second is answered from what the first worked out
        assert api.get("/api/v1/tokens", **bearer(reader)).status_code == 200
    assert any("read.tokens" in key[3] and key[1] == "GET" for key in permissions._granted), (
        permissions._granted
    )
    assert _code(api.get("/api/v1/tokens", **bearer(me_only))) == (403, "insufficient_scope")
    assert _code(api.post("/api/v1/tokens", {"name": "x"}, format="json", **bearer(reader))) == (
        403,
        "insufficient_scope",
    )
    assert _code(api.delete(f"/api/v1/tokens/{token.pk}", **bearer(reader))) == (
        403,
        "insufficient_scope",
    )
    assert api.get(f"/api/v1/tokens/{token.pk}", **bearer(reader)).status_code == 200


class _Probe(APIView):
    required_scopes = ["read.me"]

    def get(self, request):
        return Response({"ok": True})


def test_scopes_an_instance_carries_are_checked_on_every_request(dev):
    """Scopes given to as_view() are the instance's own: a grant the class's scopes earned
    is never used for them."""
    _token, me_only = issue(dev, scopes=["read.me"])
    factory = RequestFactory()
    for _ in range(2):
        assert _Probe.as_view()(factory.get("/probe", **bearer(me_only))).status_code == 200
    assert any(key[0] is _Probe for key in permissions._granted)
    strict = _Probe.as_view(required_scopes=["read.tokens"])
    assert strict(factory.get("/probe", **bearer(me_only))).status_code == 403


def test_limits_routes_are_granted_by_the_class_scopes_of_their_action(api, dev):
    token, reader = issue(dev, scopes=["read.tokens"])
    for _ in range(2):
        assert api.get(f"/api/v1/tokens/{token.pk}/limits", **bearer(reader)).status_code == 200
    response = api.put(f"/api/v1/tokens/{token.pk}/limits", {}, format="json", **bearer(reader))
    assert _code(response) == (403, "insufficient_scope")


def test_a_full_table_of_grants_still_checks_every_request(api, dev, monkeypatch):
    monkeypatch.setattr(permissions, "_granted", {})
    monkeypatch.setattr(permissions, "MAX_GRANTS", 0)
    _token, me_only = issue(dev, scopes=["read.me"])
    assert api.get("/api/v1/me", **bearer(me_only)).status_code == 200
    assert _code(api.get("/api/v1/tokens", **bearer(me_only))) == (403, "insufficient_scope")
    assert permissions._granted == {}


def test_a_grant_for_one_action_is_never_used_for_another_action_of_the_same_method(api, dev):
    token, creator = issue(dev, scopes=["read.me", "create.tokens"])
    for name in ("first", "second"):  # the second is answered from what the first worked out
        body = {"name": name, "scopes": ["read.me"]}
        assert api.post("/api/v1/tokens", body, format="json", **bearer(creator)).status_code == 201
    response = api.post(f"/api/v1/tokens/{token.pk}/rotate", {}, format="json", **bearer(creator))
    assert _code(response) == (403, "insufficient_scope")


class _Lazy(_Probe):
    """A view that authenticates only when something asks (DRF's documented lazy pattern)."""

    def perform_authentication(self, request):
        pass


def test_a_view_that_authenticates_lazily_is_still_checked_against_its_caller(dev):
    _token, me_only = issue(dev, scopes=["read.me"])
    _other, tokens_only = issue(dev, scopes=["read.tokens"], name="tokens only")
    factory = RequestFactory()
    assert _Lazy.as_view()(factory.get("/probe", **bearer(me_only))).status_code == 200
    assert _Lazy.as_view()(factory.get("/probe", **bearer(tokens_only))).status_code == 403
    assert _Lazy.as_view()(factory.get("/probe")).status_code in (401, 403)
