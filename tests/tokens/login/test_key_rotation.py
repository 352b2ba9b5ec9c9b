"""Signing-key rotation with lead time (issue 11, finding 5).

A new key is published in the JWKS at least one JWKS cache lifetime before it signs, so
a verifier honouring the cache header never meets a token whose key it could not have;
the old key stays published for one access-token lifetime after its last signature.
"""

import datetime
import io

import jwt
import pytest
from django.core.management import call_command

from tests.tokens.login.helpers import later, pair_of
from tokens.login import signing_keys
from tokens.models import SigningKey

pytestmark = pytest.mark.django_db

LEAD = signing_keys.JWKS_MAX_AGE_SECONDS
DAY = 24 * 3600


def rotate(*args):
    out = io.StringIO()
    call_command("rotate_signing_key", *args, stdout=out)
    return out.getvalue()


def kid_of(body):
    return jwt.get_unverified_header(body["token"])["kid"]


def published(client):
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    return {key["kid"] for key in response.json()["keys"]}


def newest_kid():
    return SigningKey.objects.order_by("-created_at", "-id").first().kid


def test_a_rotated_key_is_published_at_once_but_does_not_sign_yet(api, client, alice):
    old = kid_of(pair_of(api, "alice@acme.test"))
    output = rotate()
    new = newest_kid()
    assert "starts signing at" in output
    assert published(client) == {old, new}
    assert kid_of(pair_of(api, "alice@acme.test")) == old


def test_the_next_key_signs_once_a_jwks_cache_lifetime_has_passed(api, client, alice):
    old = kid_of(pair_of(api, "alice@acme.test"))
    rotate()
    new = newest_kid()
    with later(seconds=LEAD - 2):
        assert kid_of(pair_of(api, "alice@acme.test")) == old
    with later(seconds=LEAD + 1):
        assert kid_of(pair_of(api, "alice@acme.test")) == new
        assert published(client) == {old, new}


def test_a_verifier_honouring_the_cache_header_always_has_the_key_of_every_token(
    api, client, alice
):
    pair_of(api, "alice@acme.test")
    rotate()
    offsets = [0, 60, LEAD - 1, LEAD, LEAD + 1, LEAD + 120, 2 * LEAD + 5]
    fetched, signed = {}, {}
    for offset in offsets:
        with later(seconds=offset):
            fetched[offset] = published(client)
            signed[offset] = kid_of(pair_of(api, "alice@acme.test"))
    for at, kid in signed.items():
        # Any JWKS a verifier fetched within the last max-age seconds (still fresh in its cache).
        for fetched_at, kids in fetched.items():
            if at - LEAD <= fetched_at <= at:
                assert kid in kids, (at, fetched_at)


def test_the_old_key_stays_published_for_one_access_token_lifetime_after_its_last_signature(
    api, client, alice
):
    old = kid_of(pair_of(api, "alice@acme.test"))
    rotate()
    with later(seconds=LEAD + 1):
        pair_of(
            api, "alice@acme.test"
        )  # the first signature by the new key: the old one signs no more
    assert (
        SigningKey.objects.get(kid=old).retired_at
        == SigningKey.objects.get(kid=newest_kid()).activates_at
    )
    with later(seconds=LEAD + DAY - 1):
        assert old in published(client)
    with later(seconds=LEAD + DAY + 2 * 60):
        assert old not in published(client)


def test_a_token_signed_by_the_old_key_just_before_the_switch_verifies_until_it_expires(
    api, client, alice
):
    pair_of(api, "alice@acme.test")
    rotate()
    with later(seconds=LEAD - 1):
        last_old = pair_of(api, "alice@acme.test")
    with later(seconds=LEAD + 1):
        pair_of(api, "alice@acme.test")
    with later(seconds=LEAD - 1 + DAY - 5):
        assert kid_of(last_old) in published(client)


def test_rotating_again_while_a_key_waits_adds_no_second_key(api, alice):
    pair_of(api, "alice@acme.test")
    rotate()
    rotate()
    assert SigningKey.objects.count() == 2


def test_the_lead_time_is_the_jwks_cache_lifetime(api, client, alice):
    pair_of(api, "alice@acme.test")
    rotate()
    key = SigningKey.objects.get(kid=newest_kid())
    assert key.activates_at - key.created_at == datetime.timedelta(seconds=LEAD)
    assert client.get("/.well-known/jwks.json")["Cache-Control"] == f"public, max-age={LEAD}"


def test_an_immediate_rotation_signs_with_the_new_key_at_once(api, alice):
    old = kid_of(pair_of(api, "alice@acme.test"))
    assert "signs now" in rotate("--immediately")
    assert kid_of(pair_of(api, "alice@acme.test")) not in {old}
    assert SigningKey.objects.get(kid=old).retired_at is not None
