"""Plain helpers for the login-token tests: log in through the real API, move the clock."""

import contextlib
import datetime
from unittest import mock

from django.utils import timezone

from tests.factories import PASSWORD

TOKEN_URL = "/api/v1/auth/token"


def log_in(
    api, email, password=PASSWORD, *, user_agent="pytest", ip="127.0.0.1", headers=None, **fields
):
    """POST /auth/token with email and password (and any other body `fields`); the response."""
    return api.post(
        TOKEN_URL,
        {"email": email, "password": password, **fields},
        format="json",
        HTTP_USER_AGENT=user_agent,
        REMOTE_ADDR=ip,
        **(headers or {}),
    )


def pair_of(api, email, **kwargs):
    """A fresh login pair (the response body) for someone who must be able to log in."""
    response = log_in(api, email, **kwargs)
    assert response.status_code == 200, response.content
    return response.json()


def refresh(api, refresh_token, *, client_id=None, access_token=None, **extra):
    body = {"refreshToken": refresh_token}
    if client_id is not None:
        body["clientId"] = client_id
    if access_token is not None:
        extra["HTTP_AUTHORIZATION"] = f"Bearer {access_token}"
    return api.post(TOKEN_URL, body, format="json", **extra)


@contextlib.contextmanager
def later(**delta):
    """Keyward's clocks, moved forward by `delta`: every `timezone.now()` caller's, and the
    one the bearer path compares a token's times against."""
    moved = timezone.now() + datetime.timedelta(**delta)
    with (
        mock.patch("django.utils.timezone.now", return_value=moved),
        mock.patch("tokens.bearer.authentication.clock", return_value=moved.timestamp()),
    ):
        yield moved
