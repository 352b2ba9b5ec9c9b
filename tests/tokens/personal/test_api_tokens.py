import pytest

from tests.factories import bearer, issue
from tokens.models import AccessToken, AuditEvent

pytestmark = pytest.mark.django_db

ALL = ["read.me", "read.tokens", "create.tokens", "update.tokens", "delete.tokens"]


def test_create_returns_the_secret_once_with_201(api, dev):
    _t, secret = issue(dev, scopes=ALL)
    response = api.post(
        "/api/v1/tokens", {"name": "CI", "scopes": ["read.me"]}, format="json", **bearer(secret)
    )
    assert response.status_code == 201
    body = response.json()
    assert body["token"].startswith("kw_pat_")
    assert body["last4"] == body["token"][-4:]
    assert response["Cache-Control"] == "no-store"
    row = AccessToken.objects.get(pk=body["id"])
    assert row.token == "" and row.name == "CI"
    listed = api.get(f"/api/v1/tokens/{body['id']}", **bearer(secret)).json()
    assert "token" not in listed and body["token"] not in str(listed)


def test_create_writes_issued_and_secret_shown_events(api, dev):
    _t, secret = issue(dev, scopes=ALL)
    body = api.post(
        "/api/v1/tokens", {"name": "CI", "scopes": ["read.me"]}, format="json", **bearer(secret)
    ).json()
    actions = set(
        AuditEvent.objects.filter(credential_id=body["id"]).values_list("action", flat=True)
    )
    assert actions == {"issued", "secret_shown"}


def test_fields_come_out_in_camel_case(api, dev):
    _t, secret = issue(dev, scopes=ALL)
    body = api.post(
        "/api/v1/tokens",
        {"name": "x", "scopes": ["read.me"], "expiresInDays": 7},
        format="json",
        **bearer(secret),
    ).json()
    assert {"expiresAt", "createdAt", "lastUsedAt", "createdBy"} <= set(body)
    assert body["expiresAt"] is not None


def test_a_token_cannot_mint_a_stronger_token(api, dev):
    _t, secret = issue(dev, scopes=["read.me", "create.tokens"])
    response = api.post(
        "/api/v1/tokens",
        {"name": "x", "scopes": ["delete.tokens"]},
        format="json",
        **bearer(secret),
    )
    assert response.status_code == 400
    assert response.json()["code"] == "scope_not_allowed"


def test_unknown_scope_is_a_400_with_field_error(api, dev):
    _t, secret = issue(dev, scopes=ALL)
    response = api.post(
        "/api/v1/tokens",
        {"name": "x", "scopes": ["read.everything"]},
        format="json",
        **bearer(secret),
    )
    assert response.status_code == 400
    assert response.json()["code"] == "unknown_scope"
    assert "scopes" in response.json()["errors"]


def test_missing_name_is_a_400_with_field_errors(api, dev):
    _t, secret = issue(dev, scopes=ALL)
    response = api.post("/api/v1/tokens", {"scopes": ["read.me"]}, format="json", **bearer(secret))
    assert response.status_code == 400
    assert "name" in response.json()["errors"]


def test_patch_renames(api, dev):
    token, secret = issue(dev, scopes=ALL)
    response = api.patch(
        f"/api/v1/tokens/{token.pk}", {"name": "renamed"}, format="json", **bearer(secret)
    )
    assert response.status_code == 200
    token.refresh_from_db()
    assert token.name == "renamed"


@pytest.mark.parametrize("field", [{"scopes": ["read.me"]}, {"expiresAt": "2030-01-01T00:00:00Z"}])
def test_patch_of_scopes_or_expiry_is_a_400_that_says_why(api, dev, field):
    token, secret = issue(dev, scopes=ALL)
    response = api.patch(
        f"/api/v1/tokens/{token.pk}", {"name": "x", **field}, format="json", **bearer(secret)
    )
    assert response.status_code == 400
    assert response.json()["code"] == "immutable_field"
    assert "fixed at creation" in response.json()["detail"]
    token.refresh_from_db()
    assert token.name == "test token"


def test_rotate_returns_a_new_secret_once(api, dev):
    token, secret = issue(dev, scopes=ALL)
    response = api.post(
        f"/api/v1/tokens/{token.pk}/rotate", {"gracePeriod": "24h"}, format="json", **bearer(secret)
    )
    assert response.status_code == 201
    new_secret = response.json()["token"]
    assert new_secret != secret
    assert api.get("/api/v1/me", **bearer(new_secret)).status_code == 200


def test_delete_revokes_at_once(api, dev):
    _token, secret = issue(dev, scopes=ALL)
    other, other_secret = issue(dev)
    assert api.delete(f"/api/v1/tokens/{other.pk}", **bearer(secret)).status_code == 204
    response = api.get("/api/v1/me", **bearer(other_secret))
    assert response.status_code == 401
    assert response.json()["code"] == "token_revoked"


def test_developer_lists_only_their_own_tokens(api, dev, alice):
    _mine, secret = issue(dev, scopes=ALL)
    issue(alice)
    names = {t["name"] for t in api.get("/api/v1/tokens", **bearer(secret)).json()["results"]}
    owners = {t["owner"] for t in api.get("/api/v1/tokens", **bearer(secret)).json()["results"]}
    assert owners == {"dev@acme.test"} and names


def test_developer_cannot_list_the_whole_org(api, dev):
    _t, secret = issue(dev, scopes=ALL)
    response = api.get("/api/v1/tokens?scope=org", **bearer(secret))
    assert response.status_code == 403


def test_admin_lists_the_whole_org_with_scope_org(api, alice, dev):
    _t, secret = issue(alice, scopes=ALL)
    issue(dev)
    owners = {
        t["owner"] for t in api.get("/api/v1/tokens?scope=org", **bearer(secret)).json()["results"]
    }
    assert owners == {"alice@acme.test", "dev@acme.test"}


def test_admin_revokes_a_developers_token(api, alice, dev):
    _t, secret = issue(alice, scopes=ALL)
    token, devs_secret = issue(dev)
    assert api.get("/api/v1/me", **bearer(devs_secret)).status_code == 200
    assert api.delete(f"/api/v1/tokens/{token.pk}", **bearer(secret)).status_code == 204
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.REVOKED, credential_id=token.pk, actor=alice
    ).exists()
    refused = api.get("/api/v1/me", **bearer(devs_secret))
    assert (refused.status_code, refused.json()["code"]) == (401, "token_revoked")


def test_developer_gets_404_for_someone_elses_token(api, alice, dev):
    token, _ = issue(alice)
    _t, secret = issue(dev, scopes=ALL)
    assert api.get(f"/api/v1/tokens/{token.pk}", **bearer(secret)).status_code == 404


@pytest.mark.parametrize(
    "method,suffix,body",
    [
        ("get", "", None),
        ("patch", "", {"name": "pwned"}),
        ("delete", "", None),
        ("post", "/rotate", {}),
    ],
)
def test_outsider_gets_404_for_acme_token_ids_on_every_route(
    api, alice, mallory, method, suffix, body
):
    token, _ = issue(alice)
    _t, secret = issue(mallory, scopes=ALL)
    response = getattr(api, method)(
        f"/api/v1/tokens/{token.pk}{suffix}", body, format="json", **bearer(secret)
    )
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    token.refresh_from_db()
    assert token.name == "test token" and token.revoked_at is None


def test_admin_issues_a_token_owned_by_a_service_account(api, alice, bot):
    _t, secret = issue(alice, scopes=ALL)
    response = api.post(
        "/api/v1/tokens",
        {"name": "bot", "scopes": ["read.me"], "owner": "bot@acme.test"},
        format="json",
        **bearer(secret),
    )
    assert response.status_code == 201
    assert response.json()["owner"] == "bot@acme.test"
    assert response.json()["createdBy"] == "alice@acme.test"


def test_developer_cannot_issue_for_a_service_account(api, dev, bot):
    _t, secret = issue(dev, scopes=ALL)
    response = api.post(
        "/api/v1/tokens",
        {"name": "bot", "scopes": ["read.me"], "owner": "bot@acme.test"},
        format="json",
        **bearer(secret),
    )
    assert response.status_code == 400
    assert response.json()["code"] == "owner_not_allowed"
