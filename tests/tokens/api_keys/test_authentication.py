"""API keys on the bearer path (tokens.api_keys.authentication): Basic auth with key id + secret,
or a JWT the caller signs with the secret."""

import datetime
import time

import jwt
import pytest

from tests.factories import make_api_key
from tests.tokens.api_keys.helpers import basic, signed
from tokens.api_keys import services as api_keys
from tokens.models import ApiKey
from tokens.personal import services as personal_services

pytestmark = pytest.mark.django_db


def test_basic_with_key_id_and_secret_works(api, alice, acme):
    key, secret = make_api_key(alice)
    response = api.get("/api/v1/conversations", **basic(key.key_id, secret))
    assert response.status_code == 200
    assert response.json()["count"] == 2


def test_basic_with_a_wrong_secret_is_401(api, alice):
    key, _secret = make_api_key(alice)
    _other, other_secret = make_api_key(alice, name="other")
    response = api.get("/api/v1/me", **basic(key.key_id, other_secret))
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


@pytest.mark.parametrize(
    "credentials",
    ["wrong secret", "unknown key", "not base64", "not an API key id", "deleted key"],
)
def test_failed_basic_login_is_challenged_with_basic(api, alice, credentials):
    # RFC 7617 §2 / RFC 7235 §3.1: a client that failed Basic is told to retry with Basic.
    key, secret = make_api_key(alice)
    _other, other_secret = make_api_key(alice, name="other")
    if credentials == "deleted key":
        api_keys.revoke_api_key(key=key, by=alice)
    header = {
        "wrong secret": basic(key.key_id, other_secret),
        "unknown key": basic("kw_key_doesnotexist", secret),
        "not base64": {"HTTP_AUTHORIZATION": "Basic !!!"},
        "not an API key id": basic("alice@acme.test", "password"),
        "deleted key": basic(key.key_id, secret),
    }[credentials]
    response = api.get("/api/v1/me", **header)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith('Basic realm="api"')


def test_failed_bearer_login_is_still_challenged_with_bearer(api, alice):
    key, secret = make_api_key(alice)
    response = api.get("/api/v1/me", **signed(key, secret[:-1] + "x"))
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith('Bearer realm="api", error="invalid_token"')


def test_jwt_signed_with_the_key_works(api, alice):
    key, secret = make_api_key(alice)
    response = api.get("/api/v1/me", **signed(key, secret))
    assert response.status_code == 200
    assert response.json()["credential"] == "api_key"


@pytest.mark.filterwarnings(
    "ignore:The HMAC key is"
)  # the HS512 case signs with a short key on purpose
@pytest.mark.parametrize(
    "case,code",
    [
        ("wrong signature", "invalid_signature"),
        ("unknown kid", "unknown_key"),
        ("alg none", "unsupported_algorithm"),
        ("past exp", "token_expired"),
        ("appUser without userId", "user_id_required"),
        ("alg HS512", "unsupported_algorithm"),
    ],
)
def test_bad_jwts_are_refused_with_distinct_codes(api, alice, case, code):
    key, secret = make_api_key(alice)
    past = int(time.time()) - 3600
    headers = {
        "wrong signature": lambda: signed(key, secret[:-1] + "x"),
        "unknown kid": lambda: signed(key, secret, kid="kw_key_doesnotexist"),
        "alg none": lambda: {
            "HTTP_AUTHORIZATION": "Bearer "
            + jwt.encode({"scope": "app"}, None, algorithm="none", headers={"kid": key.key_id})
        },
        "past exp": lambda: signed(key, secret, exp=past),
        "appUser without userId": lambda: signed(key, secret, scope="appUser"),
        "alg HS512": lambda: signed(key, secret, alg="HS512"),
    }[case]()
    response = api.get("/api/v1/me", **headers)
    assert response.status_code == 401
    assert response.json()["code"] == code


def test_jwt_lifetime_is_capped(api, alice, settings):
    key, secret = make_api_key(alice)
    far = int(time.time()) + settings.API_KEY_JWT_MAX_LIFETIME_SECONDS + 3600
    response = api.get("/api/v1/me", **signed(key, secret, exp=far))
    assert response.json()["code"] == "lifetime_too_long"


def test_jwt_without_exp_is_accepted_unless_the_organization_requires_exp(api, alice):
    # Smooch's convention: `exp` is optional; such a JWT lives until its key is rotated.
    key, secret = make_api_key(alice)
    assert api.get("/api/v1/me", **signed(key, secret)).status_code == 200


def test_organization_policy_can_require_exp_on_api_key_jwts(api, alice, org):
    key, secret = make_api_key(alice)
    personal_services.set_token_policy(
        organization=org,
        by=alice,
        require_expiry=False,
        max_lifetime_days=None,
        max_live_tokens_per_member=None,
        require_jwt_exp=True,
    )
    refused = api.get("/api/v1/me", **signed(key, secret))
    assert refused.status_code == 401
    assert refused.json()["code"] == "exp_required"
    assert "exp" in refused.json()["detail"]
    soon = int(time.time()) + 600
    assert api.get("/api/v1/me", **signed(key, secret, exp=soon)).status_code == 200
    assert api.get("/api/v1/me", **basic(key.key_id, secret)).status_code == 200


def test_app_user_jwt_reads_its_contacts_conversation_and_404s_another(api, alice, acme):
    key, secret = make_api_key(alice)
    auth = signed(key, secret, scope="appUser", userId=acme.contact.external_id)
    assert api.get(f"/api/v1/conversations/{acme.chat.pk}", **auth).status_code == 200
    assert api.get(f"/api/v1/conversations/{acme.other_chat.pk}", **auth).status_code == 404


def test_jwt_cannot_claim_wider_reach_than_its_key(api, alice):
    key, secret = make_api_key(alice)
    response = api.get("/api/v1/me", **signed(key, secret, scope="account"))
    assert response.json()["code"] == "reach_not_allowed"


def test_account_reach_key_lists_the_groups_organizations_app_key_only_its_own(
    api, alice, acme, labs
):
    account_key, account_secret = make_api_key(alice, reach="account")
    app_key, app_secret = make_api_key(alice, name="app")
    account_orgs = api.get(
        "/api/v1/organizations", **basic(account_key.key_id, account_secret)
    ).json()["results"]
    app_orgs = api.get("/api/v1/organizations", **basic(app_key.key_id, app_secret)).json()[
        "results"
    ]
    assert {o["id"] for o in account_orgs} == {acme.org.public_id, labs.org.public_id}
    assert {o["id"] for o in app_orgs} == {acme.org.public_id}


def test_keys_scopes_bound_what_a_jwt_may_do(api, alice):
    key, secret = make_api_key(alice, scopes=["read.me"])
    response = api.get("/api/v1/conversations", **signed(key, secret))
    assert response.status_code == 403
    assert response.json()["missingScopes"] == ["read.chats"]


def test_rotated_key_keeps_old_secret_only_during_grace(api, alice):
    key, old = make_api_key(alice)
    new = api_keys.rotate_api_key(key=key, grace="1h", by=alice).secret.reveal()
    assert api.get("/api/v1/me", **basic(key.key_id, old)).status_code == 200
    assert api.get("/api/v1/me", **basic(key.key_id, new)).status_code == 200
    ApiKey.objects.filter(pk=key.pk).update(
        previous_secret_expires_at=datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
    )
    assert api.get("/api/v1/me", **basic(key.key_id, old)).status_code == 401


def test_deleted_key_is_refused(api, alice):
    key, secret = make_api_key(alice)
    api_keys.revoke_api_key(key=key, by=alice)
    response = api.get("/api/v1/me", **basic(key.key_id, secret))
    assert response.status_code == 401
    assert response.json()["code"] == "token_revoked"
