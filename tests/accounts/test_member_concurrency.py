"""Two admins changing each other at once, on real parallel PostgreSQL connections: one wins,
the other is refused with a sentence, nobody deadlocks and the organization keeps an admin."""

import contextlib
import threading

import pytest
from django.db import OperationalError

from accounts import services
from accounts.models import Membership, Role, User
from tests.factories import in_parallel, make_member

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

# How long a change waits, just before it writes, for the other to reach the same point. Only
# a bound: with one lock order the other change is queued behind the first and never comes.
RENDEZVOUS_SECONDS = 2


@pytest.fixture
def second_admin(org, alice):
    """Acme's other admin, as in Acme Labs, which has two."""
    return make_member(org, "second-admin@acme.test", Role.ADMIN, developer_access=True)


@pytest.fixture
def both_reach_their_write_together(monkeypatch):
    """Each change pauses right before it writes the other's membership until the other change
    has got that far too: the interleaving in which locks taken in opposite orders deadlock."""
    rendezvous = threading.Barrier(2, timeout=RENDEZVOUS_SECONDS)
    real_save, real_delete = Membership.save, Membership.delete

    def wait_for_the_other():
        # Broken when the other change is queued behind our locks: go on alone.
        with contextlib.suppress(threading.BrokenBarrierError):
            rendezvous.wait()

    def save(self, *args, **kwargs):
        wait_for_the_other()
        return real_save(self, *args, **kwargs)

    def delete(self, *args, **kwargs):
        wait_for_the_other()
        return real_delete(self, *args, **kwargs)

    monkeypatch.setattr(Membership, "save", save)
    monkeypatch.setattr(Membership, "delete", delete)


def change(action, by_email, target_email, org):
    """One admin's request: the target read as their page showed it, then the service."""
    by = User.objects.get(email=by_email)
    target = Membership.objects.select_related("organization", "user").get(
        user__email=target_email, organization=org
    )

    def work(start):
        start.wait()
        try:
            if action == "demote":
                services.update_member(
                    membership=target, by=by, by_role=Role.ADMIN, role=Role.AGENT
                )
            else:
                services.remove_member(membership=target, by=by)
        except OperationalError as exc:  # a deadlock victim: the API answers it with a 503
            return f"database error: {type(exc.__cause__ or exc).__name__}"
        return action

    return work


@pytest.mark.parametrize(
    ("first", "second"),
    [("demote", "demote"), ("remove", "remove"), ("demote", "remove")],
)
def test_two_admins_changing_each_other_at_once_never_deadlock_and_one_admin_stays(
    org, alice, second_admin, both_reach_their_write_together, first, second
):
    requests = [
        change(first, "alice@acme.test", "second-admin@acme.test", org),
        change(second, "second-admin@acme.test", "alice@acme.test", org),
    ]

    outcomes = in_parallel(2, lambda n, start: requests[n](start))

    assert sorted(outcomes) in (sorted([first, "last_admin"]), sorted([second, "last_admin"]))
    admins = Membership.objects.filter(organization=org, role=Role.ADMIN)
    assert admins.count() == 1
