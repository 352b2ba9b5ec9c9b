"""Eight clients create personal tokens and API keys through the API for twenty seconds, on
real PostgreSQL connections: no deadlock, no 5xx, and no credential whose secret nobody saw."""

import threading
import time

import pytest
from django.apps import apps
from django.db import connection
from rest_framework.test import APIClient

from .conftest import all_scope_token, bearer

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 8
SECONDS = 20
# Each thread cycles through these: both kinds, owned by the caller and by Acme's service
# account, so the two creation paths meet on the same organization and membership rows.
REQUESTS = [
    ("/api/v1/tokens", {"name": "race", "scopes": ["read.me"]}),
    ("/api/v1/api-keys", {"name": "race", "scopes": ["read.me"], "owner": "bot@acme.test"}),
    ("/api/v1/tokens", {"name": "race", "scopes": ["read.me"], "owner": "bot@acme.test"}),
    ("/api/v1/api-keys", {"name": "race", "scopes": ["read.me"]}),
]


def hammer(headers, deadline, offset):
    outcomes = []
    client = APIClient()
    try:
        n = offset
        while time.monotonic() < deadline:
            path, body = REQUESTS[n % len(REQUESTS)]
            n += 1
            response = client.post(path, body, format="json", **headers)
            created = response.json() if response.status_code == 201 else {}
            shown = bool(created.get("token") or created.get("secret"))
            outcomes.append(
                (
                    path,
                    response.status_code,
                    created.get("id"),
                    shown,
                    response.json().get("code") if response.status_code >= 400 else None,
                )
            )
    finally:
        connection.close()
    return outcomes


def test_parallel_creates_never_deadlock_and_every_secret_is_shown(alice, bot, acme, settings):
    settings.API_KEYS_PER_ORGANIZATION = 1_000_000
    headers = bearer(all_scope_token(APIClient(), "alice@acme.test")["token"])
    AccessToken = apps.get_model("tokens", "AccessToken")
    ApiKey = apps.get_model("tokens", "ApiKey")
    tokens_before = set(AccessToken.objects.values_list("pk", flat=True))
    keys_before = set(ApiKey.objects.values_list("pk", flat=True))

    results = [None] * THREADS
    deadline = time.monotonic() + SECONDS

    def run(n):
        results[n] = hammer(headers, deadline, n)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=SECONDS + 60)
    outcomes = [outcome for result in results for outcome in (result or [])]

    assert len(outcomes) > 20
    server_errors = [o for o in outcomes if o[1] >= 500]
    assert server_errors == [], server_errors[:5]
    assert all(status == 201 for _path, status, _id, _shown, _code in outcomes), {
        (o[0], o[1], o[4]) for o in outcomes if o[1] != 201
    }
    assert all(shown for _path, status, _id, shown, _code in outcomes if status == 201)
    shown_tokens = {o[2] for o in outcomes if o[0] == "/api/v1/tokens" and o[1] == 201}
    shown_keys = {o[2] for o in outcomes if o[0] == "/api/v1/api-keys" and o[1] == 201}
    created_tokens = set(AccessToken.objects.values_list("pk", flat=True)) - tokens_before
    created_keys = set(ApiKey.objects.values_list("pk", flat=True)) - keys_before
    assert created_tokens == shown_tokens
    assert created_keys == shown_keys
