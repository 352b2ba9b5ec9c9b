import pytest

from accounts.models import Membership
from tests.factories import in_parallel
from tokens.models import AccessToken
from tokens.personal import services

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_twenty_parallel_creates_against_a_limit_of_ten_leave_ten(org, alice, dev):
    services.set_token_policy(organization=org, by=alice, require_expiry=False, max_lifetime_days=None,
                              max_live_tokens_per_member=10)
    issuer_id = Membership.objects.get(user=dev).pk

    def create(n, start):
        issuer = Membership.objects.select_related("organization", "user").get(pk=issuer_id)
        start.wait()
        services.issue_personal_token(issuer=issuer, name=f"parallel {n}", scopes=["read.me"])
        return "issued"

    outcomes = in_parallel(20, create)
    assert sorted(outcomes) == ["issued"] * 10 + ["token_limit_reached"] * 10
    assert AccessToken.objects.personal().live().filter(user=dev).count() == 10
