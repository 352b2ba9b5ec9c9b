"""No door takes a password or a client secret without the throttle (issue 10, finding 1).

Two holds, so a new password-accepting view cannot be added unthrottled unnoticed:
structurally, the only authentication backend is the throttled one and no code of ours
checks a password hash itself; and by a sweep, every route of the URL resolver gets
POSTs carrying passwords and client credentials (anonymous, and as a logged-in staff
member), while Django's one password verifier is watched: a hash checked in a request
that reserved no throttle attempt fails the test. The sweep must also reach each door
we know of, so it cannot pass by reaching nothing.
"""

import ast
import base64
import json
import re
import uuid
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import hashers, load_backend
from django.test import Client
from django.urls import URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404

from accounts import throttle
from accounts.backends import EmailBackend
from tests.factories import PASSWORD, make_client

ROOT = Path(__file__).resolve().parent.parent.parent
WRONG = "not-the-password-9f3a"

# Every door that takes a password or a client secret today; the sweep must reach each one.
KNOWN_DOORS = {
    "/api/v1/auth/token",
    "/login/",
    "/admin/login/",
    "/admin/password_change/",
    "/orgs/{org}/account/password/",
    "/o/token/",
    "/o/revoke_token/",
    "/o/introspect/",
}


def test_every_authentication_backend_is_the_throttled_one():
    for path in django_settings.AUTHENTICATION_BACKENDS:
        assert isinstance(load_backend(path), EmailBackend), path


# Calls named like a password check that check no password, each with the reason.
NOT_PASSWORD_CHECKS = {
    (
        "tokens/leaks.py",
        "verify",
    ): "GitHub's ECDSA signature over a leak report (public key, no secret)",
}


def test_no_code_of_ours_checks_a_password_hash_but_through_the_backend():
    """`check_password`/`verify_password` outside the throttled backend would be an unthrottled door."""
    offenders = []
    for app in ("accounts", "tokens", "chats", "portal"):
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if not isinstance(node, ast.Call):
                    continue
                name = getattr(node.func, "attr", getattr(node.func, "id", None))
                if name in {"check_password", "acheck_password", "verify_password", "verify"} and (
                    (str(path.relative_to(ROOT)), name) not in NOT_PASSWORD_CHECKS
                ):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} {name}()")
    assert offenders == []


# --- the sweep ------------------------------------------------------------------------------


def _routes(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern


def _sample_path(route, org_id):
    """A concrete path that the route matches (ids need not exist)."""
    samples = {"str": org_id, "int": "1", "uuid": str(uuid.uuid4()), "slug": "x", "path": "x"}
    path = re.sub(r"\(\?P<id>org_[^)]*\)", org_id, route)  # regex routes (DRF routers) first
    path = re.sub(r"\(\?P<\w+>[^)]*\)", "1", path)
    path = re.sub(r"\(\?:([^|)]*)[^)]*\)", r"\1", path)
    path = re.sub(r"<(?:(\w+):)?\w+>", lambda m: samples.get(m.group(1) or "str", "x"), path)
    path = path.replace("^", "").replace("$", "").replace("/?", "/").replace("\\", "")
    return "/" + path


def _bodies(client_id):
    fields = {
        "username": "alice@acme.test",
        "email": "alice@acme.test",
        "password": WRONG,
        "old_password": WRONG,
        "new_password1": "a-new-passphrase-7",
        "new_password2": "a-new-passphrase-7",
        "client_id": client_id,
        "client_secret": WRONG,
        "secret": WRONG,
        "token": "x",
        "grant_type": "authorization_code",
        "code": "x",
        "redirect_uri": "https://example.com/cb",
        "code_verifier": "x" * 43,
    }
    basic = "Basic " + base64.b64encode(f"{client_id}:{WRONG}".encode()).decode()
    # A form with Basic credentials too (DOT tries Basic, then the body), and JSON for the API.
    yield {"data": fields, "HTTP_AUTHORIZATION": basic}
    yield {"data": json.dumps(fields), "content_type": "application/json"}


@pytest.mark.django_db
def test_every_route_that_checks_a_password_or_client_secret_reserves_a_throttle_attempt(
    alice, org, dev, settings
):
    settings.LOGIN_FAILURES_PER_ACCOUNT = settings.LOGIN_FAILURES_PER_IP = 10**9
    alice.is_staff = alice.is_superuser = True
    alice.save()
    application, _secret = make_client(dev)
    state = {"reserved": 0, "checked": 0}
    unthrottled, reached, unresolved = set(), set(), []

    real_reserve, real_verify = throttle.reserve, hashers.verify_password

    def reserve(**kwargs):
        state["reserved"] += 1
        return real_reserve(**kwargs)

    def verify(password, encoded, preferred="default"):
        state["checked"] += 1
        if not state["reserved"]:
            unthrottled.add(state["path"])
        return real_verify(password, encoded, preferred=preferred)

    paths = {}
    for route, _pattern in _routes(get_resolver().url_patterns):
        path = _sample_path(route, org.public_id)
        try:
            resolve(path)  # an earlier route may win (a view we replaced): the winner is swept
        except Resolver404:
            unresolved.append((route, path))
            continue
        paths.setdefault(path, route)
    assert unresolved == []

    with (
        mock.patch.object(throttle, "reserve", reserve),
        mock.patch.object(hashers, "verify_password", verify),
    ):
        for logged_in in (False, True):
            browser = Client(raise_request_exception=False)  # 5xx are the hostile-input suite's
            for path, route in paths.items():
                for body in _bodies(application.client_id):
                    browser.cookies.clear()
                    if logged_in:
                        browser.force_login(alice)
                    state.update(reserved=0, checked=0, path=route)
                    browser.post(path, **body)
                    if state["checked"]:
                        reached.add(path.replace(org.public_id, "{org}"))
    assert unthrottled == set()
    assert reached >= KNOWN_DOORS, KNOWN_DOORS - reached
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)  # no door let a wrong old password through
