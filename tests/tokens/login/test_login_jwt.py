"""The access token is a JWT signed by Keyward, verifiable with /.well-known/jwks.json alone."""

import datetime
import json

import jwt
import pytest
from django.core.management import call_command
from jwcrypto import jwk as jwcrypto_jwk
from jwcrypto import jwt as jwcrypto_jwt

from tests.factories import bearer
from tests.tokens.login.helpers import later, pair_of
from tokens import sealing, secret_format
from tokens.login import signing_keys
from tokens.models import AccessToken, SigningKey

pytestmark = pytest.mark.django_db


def _jwks(client):
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    return response.json()


def _verify_with_pyjwt(client, token):
    kid = jwt.get_unverified_header(token)["kid"]
    keys = {key["kid"]: key for key in _jwks(client)["keys"]}
    return jwt.decode(
        token,
        jwt.PyJWK(keys[kid]),
        algorithms=["EdDSA"],
        issuer="keyward",
        options={"require": ["iss", "sub", "exp", "iat", "jti"]},
    )


def test_the_jwt_verifies_against_the_published_jwks_with_pyjwt(api, client, alice, org):
    body = pair_of(api, "alice@acme.test")
    claims = _verify_with_pyjwt(client, body["token"])
    assert claims["sub"] == str(alice.pk)
    assert claims["org"] == org.public_id
    assert claims["scope"] == "admin"
    assert claims["exp"] - claims["iat"] == 24 * 3600
    assert claims["jti"]


def test_the_jwt_verifies_with_jwcrypto_too(api, client, agent):
    body = pair_of(api, "agent@acme.test")
    keyset = jwcrypto_jwk.JWKSet.from_json(json.dumps(_jwks(client)))
    verified = jwcrypto_jwt.JWT(jwt=body["token"], key=keyset, expected_type="JWS")
    assert json.loads(verified.claims)["scope"] == "agent"


def test_the_scope_claim_is_the_members_role(api, client, guest):
    assert _verify_with_pyjwt(client, pair_of(api, "guest@acme.test")["token"])["scope"] == "guest"


def test_exp_matches_expires_at_and_the_row(api, client, alice):
    body = pair_of(api, "alice@acme.test")
    exp = _verify_with_pyjwt(client, body["token"])["exp"]
    row = AccessToken.objects.get(token_checksum=secret_format.digest(body["token"]))
    assert row.expires == datetime.datetime.fromtimestamp(exp, tz=datetime.UTC)
    assert body["expiresAt"] == row.expires.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_every_token_has_its_own_jti(api, client, alice):
    first = _verify_with_pyjwt(client, pair_of(api, "alice@acme.test")["token"])
    second = _verify_with_pyjwt(client, pair_of(api, "alice@acme.test")["token"])
    assert first["jti"] != second["jti"]


def test_the_jwks_publishes_public_keys_only(api, client, alice):
    pair_of(api, "alice@acme.test")
    (key,) = _jwks(client)["keys"]
    assert set(key) == {"kty", "crv", "x", "kid", "alg", "use"}
    assert (key["kty"], key["crv"], key["alg"]) == ("OKP", "Ed25519", "EdDSA")


def test_the_private_key_is_stored_sealed(api, alice):
    pair_of(api, "alice@acme.test")
    key = SigningKey.objects.get()
    assert "PRIVATE KEY" not in key.sealed_private_key
    assert "PRIVATE KEY" in sealing.unseal(key.sealed_private_key)
    assert key.sealed_private_key not in repr(key) and key.sealed_private_key not in str(key)


def test_a_fresh_database_makes_its_first_key_on_the_first_login(api, client, alice):
    assert _jwks(client) == {"keys": []}
    pair_of(api, "alice@acme.test")
    assert len(_jwks(client)["keys"]) == 1


def test_after_rotation_the_new_key_signs_and_the_old_still_verifies(api, client, alice):
    old = pair_of(api, "alice@acme.test")
    call_command("rotate_signing_key", "--immediately", stdout=open("/dev/null", "w"))  # noqa: SIM115
    new = pair_of(api, "alice@acme.test")
    assert (
        jwt.get_unverified_header(new["token"])["kid"]
        != jwt.get_unverified_header(old["token"])["kid"]
    )
    assert len(_jwks(client)["keys"]) == 2
    assert _verify_with_pyjwt(client, old["token"])["sub"] == str(alice.pk)
    assert _verify_with_pyjwt(client, new["token"])["sub"] == str(alice.pk)
    assert api.get("/api/v1/me", **bearer(old["token"])).status_code == 200


def test_a_retired_key_leaves_the_jwks_once_its_tokens_have_expired(api, client, alice):
    pair_of(api, "alice@acme.test")
    signing_keys.create_key(retire_others=True)
    with later(hours=25):
        assert len(_jwks(client)["keys"]) == 1


def test_a_key_that_cannot_be_unsealed_is_replaced_not_fatal(api, alice, settings):
    pair_of(api, "alice@acme.test")
    # Keyward restarts with other sealing keys: nothing unsealed survives in memory.
    settings.SECRET_ENCRYPTION_KEYS = ["aGVsbG8taGVsbG8taGVsbG8taGVsbG8taGVsbG8tMTI="]
    signing_keys._private_key.cache_clear()
    pair_of(api, "alice@acme.test")
    assert SigningKey.objects.filter(retired_at__isnull=True).count() == 1
    assert SigningKey.objects.count() == 2


def test_a_tampered_jwt_is_an_unknown_token(api, alice):
    body = pair_of(api, "alice@acme.test")
    header, payload, signature = body["token"].split(".")
    forged = ".".join(
        [header, payload, signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")]
    )
    response = api.get("/api/v1/me", **bearer(forged))
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"
