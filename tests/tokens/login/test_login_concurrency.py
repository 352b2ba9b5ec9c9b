"""Twenty clients refresh one refresh token at the same instant, fifty times over, on real connections.

Each thread has its own PostgreSQL connection and goes through the whole API (test
client → view → service → DOT). The refresh token's row lock must let exactly one
through; the others are refused with invalid_grant, never a 5xx, and the session
survives with exactly one live pair.
"""

import statistics
import threading
import time

import pytest
from django.db import connection
from rest_framework.test import APIClient

from tests.factories import bearer
from tests.tokens.login.helpers import TOKEN_URL, pair_of
from tokens import secret_format
from tokens.login import services
from tokens.models import AccessToken, Kind, RefreshToken

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROUNDS = 50
CLIENTS = 20


def _refresh_all_at_once(raw):
    start = threading.Barrier(CLIENTS)
    results = [None] * CLIENTS

    def client(n):
        try:
            api = APIClient()
            start.wait()
            response = api.post(
                TOKEN_URL, {"refreshToken": raw, "clientId": "alice@acme.test"}, format="json"
            )
            results[n] = (response.status_code, response.json())
        except Exception as exc:  # reported as a failure below
            results[n] = (None, repr(exc))
        finally:
            connection.close()  # each thread has its own real connection

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_twenty_simultaneous_refreshes_have_exactly_one_winner_every_round(api, alice):
    pair = pair_of(api, "alice@acme.test")
    raw = pair["refreshToken"]
    family = RefreshToken.objects.get(token_checksum=secret_format.digest(raw)).token_family
    durations = []

    for round_number in range(ROUNDS):
        began = time.perf_counter()
        results = _refresh_all_at_once(raw)
        durations.append(time.perf_counter() - began)

        statuses = sorted(status for status, _body in results)
        assert statuses == [200] + [400] * (CLIENTS - 1), (round_number, results)
        assert {body["code"] for status, body in results if status == 400} == {"invalid_grant"}
        (winner,) = [body for status, body in results if status == 200]

        live_refresh = RefreshToken.objects.filter(user=alice, revoked__isnull=True)
        assert list(live_refresh.values_list("token_family", flat=True)) == [family], round_number
        live_access = AccessToken.objects.live().filter(user=alice, kind=Kind.LOGIN)
        assert list(live_access.values_list("token_checksum", flat=True)) == [
            secret_format.digest(winner["token"])
        ], round_number
        assert api.get("/api/v1/me", **bearer(winner["token"])).status_code == 200
        raw = winner["refreshToken"]

    print(  # measured, for the record (pytest -s shows it)
        f"\n{ROUNDS} rounds x {CLIENTS} parallel refreshes: 1 winner each; round time "
        f"median {statistics.median(durations) * 1000:.0f} ms, max {max(durations) * 1000:.0f} ms"
    )


def _race(*actions):
    """Run each action in its own thread and connection, all released at once; their results."""
    start = threading.Barrier(len(actions))
    results = [None] * len(actions)

    def run(n, action):
        try:
            start.wait()
            results[n] = action()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n, action)) for n, action in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_ending_a_session_while_it_is_being_refreshed_leaves_nothing_alive(api, alice, org):
    """The refresh's new pair is ended too: ending waits for a refresh in flight to commit."""
    for round_number in range(ROUNDS):
        pair = pair_of(api, "alice@acme.test")
        family = RefreshToken.objects.get(
            token_checksum=secret_format.digest(pair["refreshToken"])
        ).token_family
        body = {"refreshToken": pair["refreshToken"], "clientId": "alice@acme.test"}
        outcomes = _race(
            lambda body=body: APIClient().post(TOKEN_URL, body, format="json").status_code,
            lambda family=family: services.end_session(
                user=alice, organization=org, session_id=family, by=alice
            ),
        )

        assert outcomes[0] in (200, 400) and outcomes[1] == 1, outcomes
        assert not RefreshToken.objects.filter(
            token_family=family, revoked__isnull=True
        ).exists(), (round_number, outcomes)
        assert not AccessToken.objects.live().filter(user=alice, kind=Kind.LOGIN).exists(), (
            round_number,
            outcomes,
        )
