import pytest

from accounts.models import Membership
from tests.factories import in_parallel
from tokens.models import AccessToken
from tokens.personal import services

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_twenty_parallel_creates_against_a_limit_of_ten_leave_ten(org, alice, dev):
    services.set_token_policy(
        organization=org,
        by=alice,
        require_expiry=False,
        max_lifetime_days=None,
        max_live_tokens_per_member=10,
    )
    issuer_id = Membership.objects.get(user=dev).pk

    def create(n, start):
        issuer = Membership.objects.select_related("organization", "user").get(pk=issuer_id)
        start.wait()
        services.issue_personal_token(issuer=issuer, name=f"parallel {n}", scopes=["read.me"])
        return "issued"

    outcomes = in_parallel(20, create)
    assert sorted(outcomes) == ["issued"] * 10 + ["token_limit_reached"] * 10
    assert AccessToken.objects.personal().live().filter(user=dev).count() == 10


def test_one_lock_order_lets_tokens_and_keys_of_one_service_account_be_created_in_parallel(
    org, alice, bot, settings
):
    """A personal token issued for a service account and an API key acting as it lock the same
    rows; with one lock order (and locks that foreign-key checks do not wait on) neither deadlocks."""
    from tokens.api_keys import services as api_key_services

    settings.API_KEYS_PER_ORGANIZATION = 100
    admin_id = Membership.objects.get(user=alice).pk
    bot_id = Membership.objects.get(user=bot).pk

    def create(n, start):
        admin = Membership.objects.select_related("organization__group", "user").get(pk=admin_id)
        owner = Membership.objects.select_related("organization", "user").get(pk=bot_id)
        start.wait()
        for round_ in range(5):
            if n % 2:
                services.issue_personal_token(
                    issuer=admin, owner=owner, name=f"t{n}.{round_}", scopes=["read.me"]
                )
            else:
                api_key_services.create_api_key(
                    issuer=admin, owner=owner, name=f"k{n}.{round_}", scopes=["read.me"]
                )
        return "done"

    assert in_parallel(8, create) == ["done"] * 8
    assert AccessToken.objects.personal().filter(user=bot).count() == 20
