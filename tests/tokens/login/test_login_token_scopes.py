"""A person's login token manages that person's own credentials, as far as the portal lets them (issue 11).

A login token carries its member's role as its scope; developer access comes with it
for members who have it, and every member sees and revokes the apps they authorized.
"""

import pytest

from tests.factories import bearer, issue, make_api_key, make_client
from tests.tokens.login.helpers import pair_of
from tests.tokens.oauth.helpers import grant
from tokens import scopes as catalog
from tokens.models import AccessToken

pytestmark = pytest.mark.django_db


def token_of(api, email):
    return bearer(pair_of(api, email)["token"])


@pytest.mark.parametrize(
    "path", ["/api/v1/tokens", "/api/v1/api-keys", "/api/v1/oauth-clients", "/api/v1/oauth-tokens"]
)
def test_a_developers_login_token_lists_their_own_credentials(api, dev, path):
    assert api.get(path, **token_of(api, "dev@acme.test")).status_code == 200


def test_a_developers_login_token_revokes_their_own_personal_token(api, dev):
    token, _ = issue(dev, name="cli")
    response = api.delete(f"/api/v1/tokens/{token.pk}", **token_of(api, "dev@acme.test"))
    assert response.status_code == 204
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_a_developers_login_token_sees_only_their_own_keys_and_clients(api, dev, alice):
    make_api_key(alice, name="admin's key")
    make_client(alice, name="admin's client")
    make_client(dev, name="dev's client")
    auth = token_of(api, "dev@acme.test")
    assert api.get("/api/v1/api-keys", **auth).json()["count"] == 0
    assert [c["name"] for c in api.get("/api/v1/oauth-clients", **auth).json()["results"]] == [
        "dev's client"
    ]


@pytest.mark.parametrize("path", ["/api/v1/tokens", "/api/v1/api-keys", "/api/v1/oauth-clients"])
def test_a_member_without_developer_access_gets_no_developer_api_from_a_login_token(
    api, agent, path
):
    response = api.get(path, **token_of(api, "agent@acme.test"))
    assert response.status_code == 403
    assert response.json()["code"] == "insufficient_scope"


def test_every_member_lists_and_revokes_the_apps_they_authorized(api, agent, dev):
    application, secret = make_client(dev)
    body = grant(agent, application, secret, scope="read.me")
    auth = token_of(api, "agent@acme.test")
    [item] = api.get("/api/v1/oauth-tokens", **auth).json()["results"]
    assert api.delete(f"/api/v1/oauth-tokens/{item['id']}", **auth).status_code == 204
    assert not AccessToken.objects.get(pk=item["id"]).is_live()
    assert body["access_token"] not in api.get("/api/v1/oauth-tokens", **auth).content.decode()


def test_a_personal_token_issued_with_a_role_name_does_not_gain_developer_scopes(dev):
    token, _ = issue(dev, scopes=("agent",))
    assert "read.tokens" not in token.scope.split()
    assert catalog.effective(token.scope, "bot", True) == catalog.ROLE_BUNDLES["agent"]


def test_a_role_name_in_a_scope_still_cannot_exceed_the_members_role():
    assert catalog.effective("admin", "agent", False) == catalog.ROLE_BUNDLES["agent"]
    assert (
        catalog.effective("admin", "agent", True)
        == catalog.ROLE_BUNDLES["agent"] | catalog.DEVELOPER_SCOPES
    )
