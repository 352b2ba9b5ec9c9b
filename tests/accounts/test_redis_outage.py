"""With REDIS_URL set, Redis keeps the throttle's counters: when it does not answer, a
password door cannot count attempts, so it answers 503 (never a 500, never an unthrottled
guess). Nothing listens on port 1, so the connection is refused at once."""

import pytest
from django.test import Client

from tests.factories import PASSWORD
from tests.tokens.login.helpers import log_in

pytestmark = pytest.mark.django_db

NOBODY_LISTENS = "redis://127.0.0.1:1/0"


def test_the_api_login_answers_503_when_redis_is_down(api, alice, settings):
    settings.REDIS_URL = NOBODY_LISTENS
    response = log_in(api, "alice@acme.test", PASSWORD)
    assert response.status_code == 503
    body = response.json()
    assert body["code"] == "service_unavailable"
    assert "Redis" in body["detail"]
    assert "access_token" not in body


def test_the_portal_login_answers_503_when_redis_is_down(alice, settings):
    settings.REDIS_URL = NOBODY_LISTENS
    browser = Client()
    response = browser.post(
        "/login/", {"username": "alice@acme.test", "password": PASSWORD}, HTTP_ACCEPT="text/html"
    )
    assert response.status_code == 503
    assert b"Redis" in response.content
    assert "_auth_user_id" not in browser.session
