"""Every door that takes a password or a client secret shares one throttle (issue 10, finding 1).

Counters per account (an email, or an OAuth client id) and per client address are shared
by the API login, the portal login, the admin login, both password changes and OAuth client
authentication at /o/token/, /o/revoke_token/ and /o/introspect/. While throttled, the
secret is not even checked.
"""

from contextlib import contextmanager
from unittest import mock

import pytest
from django.contrib.auth import hashers
from django.test import Client

from accounts import throttle
from tests.factories import PASSWORD, make_client
from tests.tokens.login.helpers import log_in
from tests.tokens.oauth.helpers import basic, post_form

pytestmark = pytest.mark.django_db

WRONG = "not-the-password-9f3a"


@pytest.fixture(autouse=True)
def fresh_counters():
    throttle.reset()
    yield
    throttle.reset()


@contextmanager
def counting_password_checks():
    """How many times a password or secret hash was verified (Django's one verifier)."""
    real = hashers.verify_password
    calls = []

    def verify(password, encoded, preferred="default"):
        calls.append(1)
        return real(password, encoded, preferred=preferred)

    with mock.patch.object(hashers, "verify_password", verify):
        yield calls


def fail_api_logins(api, email="alice@acme.test", times=10, ip="127.0.0.1"):
    for _ in range(times):
        assert log_in(api, email, WRONG, ip=ip).status_code == 400


def portal_login(email="alice@acme.test", password=PASSWORD, ip="127.0.0.1"):
    browser = Client()
    response = browser.post("/login/", {"username": email, "password": password}, REMOTE_ADDR=ip)
    return browser, response


def test_after_the_api_throttles_an_account_the_portal_login_refuses_even_the_right_password(
    api, alice
):
    fail_api_logins(api)
    browser, response = portal_login()
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "_auth_user_id" not in browser.session
    assert "Too many failed attempts" in response.content.decode()


def test_portal_login_failures_count_against_the_api_login(api, alice):
    for _ in range(10):
        assert portal_login(password=WRONG)[1].status_code == 200
    response = log_in(api, "alice@acme.test")
    assert response.status_code == 429
    assert response.json()["code"] == "throttled"


def test_while_throttled_the_password_is_not_even_checked(api, alice):
    fail_api_logins(api)
    with counting_password_checks() as checks:
        assert log_in(api, "alice@acme.test").status_code == 429
        assert portal_login()[1].status_code == 429
    assert checks == []


def test_the_admin_login_is_throttled_with_a_sentence(api, alice):
    alice.is_staff = True
    alice.save()
    fail_api_logins(api)
    browser = Client()
    response = browser.post("/admin/login/", {"username": "alice@acme.test", "password": PASSWORD})
    assert response.status_code == 200
    assert "_auth_user_id" not in browser.session
    assert "Too many failed attempts" in response.content.decode()


def test_the_admin_password_change_checks_the_old_password_through_the_throttle(api, alice):
    alice.is_staff = True
    alice.save()
    browser = Client()
    browser.force_login(alice)
    fail_api_logins(api)
    new = "a-brand-new-passphrase-7"
    response = browser.post(
        "/admin/password_change/",
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 200
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)
    assert "Too many failed attempts" in response.content.decode()


def test_wrong_old_passwords_on_the_password_page_lock_the_api_login(api, alice, org):
    browser = Client()
    browser.force_login(alice)
    url = f"/orgs/{org.public_id}/account/password/"
    body = {
        "old_password": WRONG,
        "new_password1": "a-brand-new-passphrase-7",
        "new_password2": "a-brand-new-passphrase-7",
    }
    for _ in range(10):
        assert "incorrect" in browser.post(url, body).content.decode()
    page = browser.post(url, {**body, "old_password": PASSWORD}).content.decode()
    assert "Too many failed attempts" in page
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)
    assert log_in(api, "alice@acme.test").status_code == 429


def test_a_right_password_on_the_password_page_still_works_when_not_throttled(alice, org):
    browser = Client()
    browser.force_login(alice)
    response = browser.post(
        f"/orgs/{org.public_id}/account/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "a-brand-new-passphrase-7",
            "new_password2": "a-brand-new-passphrase-7",
        },
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password("a-brand-new-passphrase-7")


@pytest.fixture(autouse=True)
def clients_allowed_ten_failures(settings):
    """The client tests below count to ten, as for a person (the default leaves room for a busy
    client's requests in flight: OAUTH_CLIENT_FAILURES_PER_CLIENT)."""
    settings.OAUTH_CLIENT_FAILURES_PER_CLIENT = 10


def _token_request(application, secret):
    fields = {
        "grant_type": "authorization_code",
        "code": "nope",
        "redirect_uri": "https://example.com/cb",
        "code_verifier": "x" * 43,
    }
    return post_form("/o/token/", fields, **basic(application.client_id, secret))


def test_the_token_endpoint_throttles_a_client_after_ten_bad_secrets_with_slow_down(dev):
    application, secret = make_client(dev)
    for _ in range(10):
        assert _token_request(application, "wrong-secret").status_code == 401
    with counting_password_checks() as checks:
        response = _token_request(application, secret)
    assert response.status_code == 429
    assert response.json()["error"] == "slow_down"
    assert int(response["Retry-After"]) > 0
    assert checks == []


def test_bad_client_secrets_in_the_body_count_like_basic_ones(dev):
    application, _secret = make_client(dev)
    for _ in range(10):
        post_form(
            "/o/revoke_token/",
            {"token": "x", "client_id": application.client_id, "client_secret": "wrong"},
        )
    response = post_form(
        "/o/revoke_token/",
        {"token": "x", "client_id": application.client_id, "client_secret": "wrong"},
    )
    assert response.status_code == 429
    assert response.json()["error"] == "slow_down"


def test_introspection_is_throttled_per_client(alice):
    application, secret = make_client(alice, name="Gateway", allow_introspection=True)
    for _ in range(10):
        assert (
            post_form(
                "/o/introspect/", {"token": "x"}, **basic(application.client_id, "wrong")
            ).status_code
            == 401
        )
    response = post_form("/o/introspect/", {"token": "x"}, **basic(application.client_id, secret))
    assert response.status_code == 429
    assert response["Retry-After"]


def test_a_good_client_secret_clears_the_clients_count(dev):
    application, secret = make_client(dev)
    for _ in range(9):
        _token_request(application, "wrong-secret")
    assert _token_request(application, secret).status_code == 400  # authenticated; the code is bad
    for _ in range(9):
        _token_request(application, "wrong-secret")
    assert _token_request(application, secret).status_code == 400


def test_client_failures_count_against_the_same_address_as_password_failures(
    api, alice, dev, settings
):
    settings.LOGIN_FAILURES_PER_IP = 12
    application, _secret = make_client(dev)
    fail_api_logins(api, times=6, ip="203.0.113.9")  # the address post_form sends from
    for _ in range(6):
        _token_request(application, "wrong-secret")
    assert log_in(api, "dev@acme.test", ip="203.0.113.9").status_code == 429
