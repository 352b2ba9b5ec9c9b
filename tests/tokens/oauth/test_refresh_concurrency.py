"""Twenty clients refresh one OAuth refresh token at /o/token/ at the same instant, fifty times over.

Each thread has its own PostgreSQL connection and goes through DOT's token view and
our validator. Exactly one wins each round; the others get 400 `invalid_grant`
(never a 5xx: DOT 3.4.1 answered the loser with a 500), and the winner's pair works.
A retry of the rotated token within CONCURRENT_REFRESH_WINDOW is refused without
ending the grant; after the window it is reuse, and the whole family is revoked.
"""

import threading
import time
from collections import Counter
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test import Client

from tests.factories import bearer, make_client
from tests.tokens.oauth.helpers import FORM, basic, grant, post_form
from tokens.oauth import validator

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROUNDS = 50
CLIENTS = 20


def _refresh(application, secret, raw, client=None):
    if client is None:
        return post_form(
            "/o/token/",
            {"grant_type": "refresh_token", "refresh_token": raw},
            **basic(application.client_id, secret),
        )
    return client.post(
        "/o/token/",
        urlencode({"grant_type": "refresh_token", "refresh_token": raw}),
        content_type=FORM,
        **basic(application.client_id, secret),
    )


class Racers:
    """CLIENTS threads that live for the whole test (each keeps its own PostgreSQL connection)
    and, each round, post the same refresh token at the same instant."""

    def __init__(self, application, secret):
        self.application, self.secret = application, secret
        self.start = threading.Barrier(CLIENTS + 1)
        self.done = threading.Barrier(CLIENTS + 1)
        self.raw = None
        self.results = [None] * CLIENTS
        self.threads = [threading.Thread(target=self._run, args=(n,)) for n in range(CLIENTS)]
        for thread in self.threads:
            thread.start()

    def _run(self, n):
        client = (
            Client()
        )  # built once: a new test client loads the middleware (and WhiteNoise's file scan)
        try:
            while True:
                self.start.wait()
                if self.raw is None:
                    return
                try:
                    response = _refresh(self.application, self.secret, self.raw, client)
                    body = (
                        response.json()
                        if response["Content-Type"] == "application/json"
                        else response.content[:300]
                    )
                    self.results[n] = (response.status_code, body)
                except Exception as exc:  # a server error the test client raised: counted as a 500
                    self.results[n] = (500, repr(exc))
                self.done.wait()
        finally:
            connection.close()

    def race(self, raw):
        self.raw = raw
        self.start.wait()
        self.done.wait()
        return list(self.results)

    def stop(self):
        self.raw = None
        self.start.wait()
        for thread in self.threads:
            thread.join(timeout=60)


def test_twenty_simultaneous_refreshes_have_exactly_one_winner_every_round(dev, capsys):
    application, secret = make_client(dev)
    pair = grant(dev, application, secret)
    statuses = Counter()
    racers = Racers(application, secret)
    checker = Client()
    began = time.perf_counter()
    try:
        for round_number in range(ROUNDS):
            results = racers.race(pair["refresh_token"])
            statuses.update(status for status, _ in results)
            winners = [body for status, body in results if status == 200]
            losers = [body for status, body in results if status != 200]
            assert len(winners) == 1, (round_number, results)
            assert all(
                isinstance(body, dict) and body.get("error") == "invalid_grant" for body in losers
            ), (round_number, [r for r in results if not isinstance(r[1], dict)][:3])
            pair = winners[0]
            assert checker.get("/api/v1/me", **bearer(pair["access_token"])).status_code == 200
    finally:
        racers.stop()
    elapsed = time.perf_counter() - began
    with capsys.disabled():
        print(
            f"\n{ROUNDS} rounds x {CLIENTS} concurrent refreshes: {dict(statuses)} in {elapsed:.1f} s"
        )
    assert statuses[200] == ROUNDS
    assert not [status for status in statuses if status >= 500]


def test_retry_within_the_window_keeps_the_grant_and_reuse_after_it_revokes_the_family(dev):
    application, secret = make_client(dev)
    first = grant(dev, application, secret)
    winner = _refresh(application, secret, first["refresh_token"])
    assert winner.status_code == 200
    retry = _refresh(application, secret, first["refresh_token"])
    assert retry.status_code == 400
    assert Client().get("/api/v1/me", **bearer(winner.json()["access_token"])).status_code == 200

    time.sleep(validator.CONCURRENT_REFRESH_WINDOW.total_seconds() + 0.2)
    reuse = _refresh(application, secret, first["refresh_token"])
    assert reuse.status_code == 400
    assert Client().get("/api/v1/me", **bearer(winner.json()["access_token"])).status_code == 401
    assert _refresh(application, secret, winner.json()["refresh_token"]).status_code == 400
