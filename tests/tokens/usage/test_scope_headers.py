"""Every API response to a credential says which scopes the operation accepts and which the
credential has, with GitHub's headers."""

import pytest

from tests.factories import bearer, issue

pytestmark = pytest.mark.django_db


def test_a_success_names_the_accepted_scopes_and_the_credentials(api, dev):
    _token, secret = issue(dev, scopes=["read.me", "read.tokens"])
    response = api.get("/api/v1/tokens", **bearer(secret))
    assert response.status_code == 200
    assert response["X-Accepted-OAuth-Scopes"] == "read.tokens"
    assert response["X-OAuth-Scopes"] == "read.me, read.tokens"


def test_a_missing_scope_403_names_them_too(api, dev):
    _token, secret = issue(dev, scopes=["read.me"])
    response = api.get("/api/v1/tokens", **bearer(secret))
    assert response.status_code == 403
    assert response["X-Accepted-OAuth-Scopes"] == "read.tokens"
    assert response["X-OAuth-Scopes"] == "read.me"


def test_the_credentials_scopes_are_its_effective_ones(api, agent):
    _token, secret = issue(agent, scopes=["read.me"])
    agent.memberships.update(role="guest")
    response = api.get("/api/v1/me", **bearer(secret))
    assert response["X-OAuth-Scopes"] == "read.me"


def test_an_operation_needing_no_scope_accepts_an_empty_list(api, dev):
    _token, secret = issue(dev, scopes=["read.me"])
    response = api.get("/api/v1/auth/sessions", **bearer(secret))
    assert response["X-Accepted-OAuth-Scopes"] == ""


def test_a_refused_credential_gets_no_scope_headers(api, dev):
    response = api.get("/api/v1/me", **bearer("kw_pat_unknown"))
    assert response.status_code == 401
    assert "X-OAuth-Scopes" not in response


def test_the_openapi_document_lists_the_headers(api):
    document = api.get("/api/schema/?format=json").json()
    ok = document["paths"]["/api/v1/tokens"]["get"]["responses"]["200"]
    assert set(ok["headers"]) == {"X-OAuth-Scopes", "X-Accepted-OAuth-Scopes"}
