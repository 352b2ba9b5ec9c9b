"""`/api/v1/oauth-clients`: register, list, read, edit, regenerate the secret, delete."""

import pytest

from accounts.models import Membership
from tests.factories import bearer, issue, make_client
from tests.tokens.oauth.helpers import REDIRECT_URI, basic, grant, post_form
from tokens.models import AccessToken, Application, AuditEvent, RefreshToken

pytestmark = pytest.mark.django_db

CLIENT_SCOPES = (
    "read.oauth_clients",
    "create.oauth_clients",
    "update.oauth_clients",
    "delete.oauth_clients",
)


def caller(user, scopes=CLIENT_SCOPES):
    return bearer(issue(user, scopes=scopes)[1])


def create(api, user, **body):
    payload = {"name": "Reporting app", "redirectUris": [REDIRECT_URI], **body}
    return api.post("/api/v1/oauth-clients", payload, format="json", **caller(user))


def test_developer_registers_a_confidential_client_and_sees_its_secret_once(api, dev):
    response = create(api, dev)
    assert response.status_code == 201
    body = response.json()
    application = Application.objects.get(client_id=body["clientId"])
    assert application.created_by == dev
    assert application.organization.slug == "acme"
    assert len(body["clientSecret"]) == 128
    assert body["clientType"] == "confidential"
    assert body["redirectUris"] == [REDIRECT_URI]
    assert body["secretLast4"] == body["clientSecret"][-4:]
    assert response["Cache-Control"] == "no-store"


def test_reading_the_client_again_never_shows_the_secret(api, dev):
    client_id = create(api, dev).json()["clientId"]
    application = Application.objects.get(client_id=client_id)
    response = api.get(f"/api/v1/oauth-clients/{application.pk}", **caller(dev))
    assert response.status_code == 200
    assert "clientSecret" not in response.json()
    listed = api.get("/api/v1/oauth-clients", **caller(dev)).json()["results"]
    assert all("clientSecret" not in item for item in listed)


def test_public_client_has_no_secret(api, dev):
    response = create(api, dev, clientType="public")
    assert response.status_code == 201
    assert response.json()["clientSecret"] is None
    assert Application.objects.get().client_secret == ""


def test_plain_http_redirect_uri_is_refused_unless_it_is_localhost(api, dev):
    response = create(api, dev, redirectUris=["http://app.example.com/cb"])
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_redirect_uri"
    assert not Application.objects.exists()
    assert create(api, dev, redirectUris=["http://localhost:8765/cb"]).status_code == 201


def test_redirect_uri_with_a_fragment_is_refused(api, dev):
    response = create(api, dev, redirectUris=["https://app.example.com/cb#frag"])
    assert response.status_code == 400
    assert response.json()["errors"]["redirectUris"]


def test_member_without_developer_access_cannot_register_a_client(api, dev, org):
    headers = caller(dev)
    Membership.objects.filter(user=dev, organization=org).update(developer_access=False)
    response = api.post(
        "/api/v1/oauth-clients",
        {"name": "x", "redirectUris": [REDIRECT_URI]},
        format="json",
        **headers,
    )
    assert response.status_code == 403
    assert response.json()["code"] == "insufficient_scope"
    assert not Application.objects.exists()


def test_only_admins_may_allow_introspection(api, dev, alice):
    refused = create(api, dev, allowIntrospection=True)
    assert refused.status_code == 400
    assert refused.json()["code"] == "introspection_not_allowed"
    allowed = create(api, alice, allowIntrospection=True)
    assert allowed.status_code == 201
    assert allowed.json()["allowIntrospection"] is True


def test_developer_lists_only_their_own_clients(api, dev, alice):
    make_client(dev, name="Mine")
    make_client(alice, name="Alice's")
    response = api.get("/api/v1/oauth-clients", **caller(dev))
    assert response.status_code == 200
    assert [item["name"] for item in response.json()["results"]] == ["Mine"]


def test_admin_lists_every_client_of_the_organization_with_scope_org(api, dev, alice):
    make_client(dev, name="Dev's")
    make_client(alice, name="Alice's")
    response = api.get("/api/v1/oauth-clients?scope=org", **caller(alice))
    assert response.status_code == 200
    assert sorted(item["name"] for item in response.json()["results"]) == ["Alice's", "Dev's"]


def test_developer_cannot_ask_for_the_whole_organization(api, dev):
    response = api.get("/api/v1/oauth-clients?scope=org", **caller(dev))
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_developer_gets_404_for_a_colleagues_client(api, dev, alice):
    application, _ = make_client(alice)
    response = api.get(f"/api/v1/oauth-clients/{application.pk}", **caller(dev))
    assert response.status_code == 404


def test_outsider_gets_404_for_the_client(api, dev, mallory):
    application, _ = make_client(dev)
    for method in ("get", "patch", "delete"):
        response = getattr(api, method)(
            f"/api/v1/oauth-clients/{application.pk}", **caller(mallory)
        )
        assert response.status_code == 404
    response = api.post(
        f"/api/v1/oauth-clients/{application.pk}/regenerate-secret", **caller(mallory)
    )
    assert response.status_code == 404
    assert Application.objects.filter(pk=application.pk).exists()


def test_name_and_redirect_uris_can_change(api, dev):
    application, _ = make_client(dev)
    response = api.patch(
        f"/api/v1/oauth-clients/{application.pk}",
        {"name": "Renamed", "redirectUris": ["https://new.example.com/cb"]},
        format="json",
        **caller(dev),
    )
    assert response.status_code == 200
    application.refresh_from_db()
    assert application.name == "Renamed"
    assert application.redirect_uris == "https://new.example.com/cb"
    assert response.json()["redirectUris"] == ["https://new.example.com/cb"]


def test_client_type_cannot_change(api, dev):
    application, _ = make_client(dev)
    response = api.patch(
        f"/api/v1/oauth-clients/{application.pk}",
        {"clientType": "public"},
        format="json",
        **caller(dev),
    )
    assert response.status_code == 400
    assert response.json()["code"] == "immutable_field"
    application.refresh_from_db()
    assert application.client_type == "confidential"


def test_regenerated_secret_is_shown_once_and_differs(api, dev):
    application, old = make_client(dev)
    response = api.post(f"/api/v1/oauth-clients/{application.pk}/regenerate-secret", **caller(dev))
    assert response.status_code == 200
    new = response.json()["clientSecret"]
    assert len(new) == 128 and new != old
    application.refresh_from_db()
    assert application.secret_last4 == new[-4:]
    assert AuditEvent.objects.filter(credential_kind="oauth_client", action="rotated").count() == 1


def test_after_regenerating_the_old_secret_fails_and_the_new_one_works(api, dev):
    application, old = make_client(dev)
    new = api.post(
        f"/api/v1/oauth-clients/{application.pk}/regenerate-secret", **caller(dev)
    ).json()["clientSecret"]
    body = grant(dev, application, new)
    refused = post_form(
        "/o/token/",
        {"grant_type": "refresh_token", "refresh_token": body["refresh_token"]},
        **basic(application.client_id, old),
    )
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_client"
    accepted = post_form(
        "/o/token/",
        {"grant_type": "refresh_token", "refresh_token": body["refresh_token"]},
        **basic(application.client_id, new),
    )
    assert accepted.status_code == 200


def test_public_client_has_no_secret_to_regenerate(api, dev):
    application, _ = make_client(dev, client_type="public")
    response = api.post(f"/api/v1/oauth-clients/{application.pk}/regenerate-secret", **caller(dev))
    assert response.status_code == 400
    assert response.json()["code"] == "public_client"


def test_deleting_a_client_kills_its_tokens_at_once(api, dev):
    application, secret = make_client(dev)
    body = grant(dev, application, secret)
    assert api.get("/api/v1/me", **bearer(body["access_token"])).status_code == 200
    response = api.delete(f"/api/v1/oauth-clients/{application.pk}", **caller(dev))
    assert response.status_code == 204
    assert not Application.objects.filter(pk=application.pk).exists()
    assert not AccessToken.objects.filter(kind="oauth").exists()
    assert not RefreshToken.objects.filter(application_id=application.pk).exists()
    after = api.get("/api/v1/me", **bearer(body["access_token"]))
    assert after.status_code == 401


def test_deleted_clients_refresh_token_buys_nothing(api, dev):
    application, secret = make_client(dev)
    body = grant(dev, application, secret)
    api.delete(f"/api/v1/oauth-clients/{application.pk}", **caller(dev))
    response = post_form(
        "/o/token/",
        {"grant_type": "refresh_token", "refresh_token": body["refresh_token"]},
        **basic(application.client_id, secret),
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_admin_can_delete_a_developers_client(api, dev, alice):
    application, _ = make_client(dev)
    response = api.delete(f"/api/v1/oauth-clients/{application.pk}", **caller(alice))
    assert response.status_code == 204
    assert not Application.objects.filter(pk=application.pk).exists()
    event = AuditEvent.objects.get(credential_kind="oauth_client", action="revoked")
    assert event.actor == alice
