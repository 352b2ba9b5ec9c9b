"""POST /api/v1/auth/token with email and password: web1on1's login, through DOT, digests only."""

import pytest
from django.db import connection

from accounts.models import Membership, Organization, Role
from tests.factories import PASSWORD, bearer, issue, membership
from tests.tokens.login.helpers import TOKEN_URL, log_in, pair_of
from tokens import secret_format
from tokens.login import minting, services
from tokens.models import AccessToken, Application, AuditEvent, Kind, RefreshToken

pytestmark = pytest.mark.django_db


def test_login_answers_web1on1s_shape(api, alice, org):
    response = log_in(api, "alice@acme.test")
    assert response.status_code == 200
    body = response.json()
    assert body["tokenType"] == "Bearer"
    assert body["token"].startswith("eyJ") and body["token"].count(".") == 2
    assert secret_format.is_well_formed(body["refreshToken"], secret_format.REFRESH_TOKEN)
    assert body["user"] == alice.pk
    assert body["scope"] == "admin"
    assert body["organization"] == org.public_id
    assert body["expiresAt"] and body["refreshTokenExpiresAt"]
    assert response["Cache-Control"] == "no-store"


def test_the_access_token_calls_the_api_with_the_members_role(api, agent):
    body = pair_of(api, "agent@acme.test")
    response = api.get("/api/v1/me", **bearer(body["token"]))
    assert response.status_code == 200
    assert response.json()["credential"] == "login"
    assert response.json()["role"] == "agent"


def test_the_row_keeps_digests_only_and_the_keyward_columns(api, dev, org):
    body = pair_of(api, "dev@acme.test", user_agent="Phone app 1.0", ip="10.0.0.7")
    token = AccessToken.objects.get(token_checksum=secret_format.digest(body["token"]))
    assert token.token == ""
    assert (token.kind, token.scope, token.organization, token.membership) == (
        Kind.LOGIN,
        "bot",
        org,
        membership(dev),
    )
    assert (token.created_ip, token.user_agent, token.last4) == (
        "10.0.0.7",
        "Phone app 1.0",
        body["token"][-4:],
    )
    refresh = RefreshToken.objects.get(token_checksum=secret_format.digest(body["refreshToken"]))
    assert (
        refresh.token == "" and refresh.access_token == token and refresh.token_family is not None
    )
    assert refresh.application.client_id == Application.LOGIN_CLIENT_ID


def test_no_table_holds_either_secret(api, alice):
    body = pair_of(api, "alice@acme.test")
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')  # test-only; table names from Django
            dump = repr(cursor.fetchall())
            assert body["token"] not in dump, table
            assert body["refreshToken"] not in dump, table


def test_login_is_audited_without_the_secret(api, alice, org):
    body = pair_of(api, "alice@acme.test", ip="10.0.0.9")
    event = AuditEvent.objects.get(
        organization=org, action=AuditEvent.Action.ISSUED, credential_kind="login"
    )
    assert event.actor == alice and event.ip == "10.0.0.9" and event.detail == "login"
    assert event.credential_last4 == body["token"][-4:]


def test_the_login_application_is_public_first_party_and_made_once(api, alice, dev):
    pair_of(api, "alice@acme.test")
    pair_of(api, "dev@acme.test")
    app = Application.objects.get(client_id=Application.LOGIN_CLIENT_ID)
    assert app.client_type == Application.CLIENT_PUBLIC and app.organization is None
    assert Application.objects.filter(client_id=Application.LOGIN_CLIENT_ID).count() == 1


def test_wrong_password_is_refused_with_invalid_grant(api, alice):
    response = log_in(api, "alice@acme.test", "not-the-password")
    assert response.status_code == 400
    assert response.json() == {"code": "invalid_grant", "detail": services.BAD_CREDENTIALS}
    assert not AccessToken.objects.filter(kind=Kind.LOGIN).exists()


def test_unknown_email_gets_the_same_answer_as_a_wrong_password(api, alice):
    unknown = log_in(api, "nobody@acme.test", "not-the-password")
    wrong = log_in(api, "alice@acme.test", "not-the-password")
    assert (unknown.status_code, unknown.json()) == (wrong.status_code, wrong.json())


def test_email_is_case_insensitive(api, alice):
    assert log_in(api, "Alice@ACME.test").status_code == 200


def test_service_account_cannot_log_in_with_a_password(api, bot):
    bot.set_password(PASSWORD)
    bot.save()
    response = log_in(api, "bot@acme.test")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_grant"


def test_deactivated_user_cannot_log_in(api, alice):
    alice.is_active = False
    alice.save()
    assert log_in(api, "alice@acme.test").json()["code"] == "invalid_grant"


def test_missing_fields_are_a_400_naming_what_to_send(api):
    response = api.post(TOKEN_URL, {"email": "alice@acme.test"}, format="json")
    assert response.status_code == 400
    assert "email and password" in response.json()["detail"]


def test_login_picks_the_organization_named_by_its_org_id(api, alice, org):
    labs = Organization.objects.create(name="Acme Labs", slug="acme-labs", group=org.group)
    Membership.objects.create(user=alice, organization=labs, role=Role.AGENT)
    body = pair_of(api, "alice@acme.test", organization=labs.public_id)
    assert body["organization"] == labs.public_id
    assert body["scope"] == "agent"
    me = api.get("/api/v1/me", **bearer(body["token"])).json()
    assert me["organizationId"] == labs.public_id and me["role"] == "agent"


def test_a_member_of_several_organizations_must_choose_and_is_told_which(api, alice, org):
    labs = Organization.objects.create(name="Acme Labs", slug="acme-labs", group=org.group)
    Membership.objects.create(user=alice, organization=labs, role=Role.AGENT)
    response = log_in(api, "alice@acme.test")
    assert response.status_code == 400
    assert AccessToken.objects.filter(user=alice).count() == 0
    body = response.json()
    assert body["code"] == "organization_required"
    assert body["organizations"] == [
        {"id": org.public_id, "name": org.name},
        {"id": labs.public_id, "name": "Acme Labs"},
    ]


def test_a_wrong_password_never_reveals_the_organizations(api, alice, org):
    labs = Organization.objects.create(name="Acme Labs", slug="acme-labs", group=org.group)
    Membership.objects.create(user=alice, organization=labs, role=Role.AGENT)
    response = log_in(api, "alice@acme.test", "not-the-password")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_grant"
    assert "organizations" not in response.json() and "Acme Labs" not in response.content.decode()


def test_a_member_of_one_organization_needs_not_name_it(api, alice, org):
    assert pair_of(api, "alice@acme.test")["organization"] == org.public_id


def test_an_organization_you_do_not_belong_to_is_refused(api, alice, other_org):
    response = log_in(api, "alice@acme.test", organization=other_org.public_id)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_organization"


def test_each_login_starts_a_new_session(api, alice):
    first = pair_of(api, "alice@acme.test")
    second = pair_of(api, "alice@acme.test")
    families = RefreshToken.objects.filter(
        token_checksum__in=[
            secret_format.digest(first["refreshToken"]),
            secret_format.digest(second["refreshToken"]),
        ]
    ).values_list("token_family", flat=True)
    assert len(set(families)) == 2
    assert api.get("/api/v1/me", **bearer(first["token"])).status_code == 200


def test_dots_own_password_grant_stays_off(client, alice):
    pair_of_app = minting.login_application()
    response = client.post(
        "/o/token/",
        {
            "grant_type": "password",
            "client_id": pair_of_app.client_id,
            "username": "alice@acme.test",
            "password": PASSWORD,
        },
    )
    assert response.status_code in (400, 401)
    assert not AccessToken.objects.exists()


def test_dots_token_endpoint_refuses_a_login_refresh_token(client, api, alice):
    body = pair_of(api, "alice@acme.test")
    response = client.post(
        "/o/token/",
        {
            "grant_type": "refresh_token",
            "client_id": Application.LOGIN_CLIENT_ID,
            "refresh_token": body["refreshToken"],
        },
    )
    assert response.status_code == 401
    assert api.get("/api/v1/me", **bearer(body["token"])).status_code == 200


def test_password_in_the_query_string_is_refused(api, alice):
    response = api.post(
        f"{TOKEN_URL}?password={PASSWORD}", {"email": "alice@acme.test"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_request"


def test_refresh_token_in_the_query_string_is_refused_even_as_a_get(api, alice):
    body = pair_of(api, "alice@acme.test")
    response = api.get(f"{TOKEN_URL}?refreshToken={body['refreshToken']}", **bearer(body["token"]))
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_request"


def test_access_token_in_the_query_string_is_refused(api, alice):
    body = pair_of(api, "alice@acme.test")
    response = api.get(f"/api/v1/me?access_token={body['token']}")
    # RFC 6750 §3.1 (issue 11, item 7): a malformed request, 400 — it was 401 before.
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_request"


def test_a_refresh_token_presented_as_bearer_is_refused(api, alice):
    body = pair_of(api, "alice@acme.test")
    response = api.get("/api/v1/me", **bearer(body["refreshToken"]))
    assert response.status_code == 401
    assert "refresh token" in response.json()["detail"]


def test_a_login_ignores_a_stale_authorization_header(api, alice):
    _token, secret = issue(alice)
    AccessToken.objects.update(revoked_at="2020-01-01T00:00:00Z")
    response = log_in(api, "alice@acme.test", headers=bearer(secret))
    assert response.status_code == 200
