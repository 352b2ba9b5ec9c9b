import threading

import pytest
from django.db import connection

from accounts.models import Membership
from tokens import services
from tokens.models import AccessToken

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_twenty_parallel_creates_against_a_limit_of_ten_leave_ten(org, alice, dev):
    services.set_token_policy(organization=org, by=alice, require_expiry=False, max_lifetime_days=None,
                              max_live_tokens_per_member=10)
    issuer_id = Membership.objects.get(user=dev).pk
    start = threading.Barrier(20)
    outcomes = []

    def create(n):
        try:
            issuer = Membership.objects.select_related("organization", "user").get(pk=issuer_id)
            start.wait()
            services.issue_personal_token(issuer=issuer, name=f"parallel {n}", scopes=["read.me"])
            outcomes.append("issued")
        except services.TokenError as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()  # each thread has its own real connection

    threads = [threading.Thread(target=create, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["issued"] * 10 + ["token_limit_reached"] * 10
    assert AccessToken.objects.personal().live().filter(user=dev).count() == 10
