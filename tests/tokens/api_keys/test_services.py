"""API key services (tokens.api_keys.services): how a secret is stored, who may create which
reach, and the per-member limit under parallel creates."""

import pytest

from accounts.errors import Refused
from accounts.models import Membership
from tests.factories import in_parallel, make_api_key, membership
from tokens.api_keys import services as api_keys
from tokens.models import ApiKey

pytestmark = pytest.mark.django_db


def test_key_secret_is_stored_as_digest_and_sealed_never_plain(alice):
    key, secret = make_api_key(alice)
    row = ApiKey.objects.filter(pk=key.pk).values().get()
    assert secret not in str(row)
    assert row["secret_digest"] and row["sealed_secret"]


def test_key_without_jwt_keeps_no_sealed_secret(alice):
    key, _ = make_api_key(alice, allow_jwt=False)
    assert ApiKey.objects.get(pk=key.pk).sealed_secret == ""


def test_account_reach_key_needs_a_group_owner(dev, acme):
    with pytest.raises(Refused) as refused:
        make_api_key(dev, scopes=["bot"], reach="account")
    assert refused.value.code == "reach_not_allowed"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_parallel_key_creations_against_a_limit_of_ten_leave_ten(alice, settings):
    settings.API_KEYS_PER_ORGANIZATION = 10
    issuer_id = membership(alice).pk

    def create(n, start):
        issuer = Membership.objects.select_related("organization", "user").get(pk=issuer_id)
        start.wait()
        api_keys.create_api_key(issuer=issuer, name=f"k{n}", scopes=["read.me"])
        return "created"

    outcomes = in_parallel(20, create)
    assert sorted(outcomes) == ["api_key_limit_reached"] * 10 + ["created"] * 10
    assert ApiKey.objects.live().count() == 10
