"""The portal's Sessions tab and the password change page."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import PASSWORD, bearer
from tests.tokens.login.helpers import pair_of
from tokens import secret_format
from tokens.models import RefreshToken

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-brand-new-passphrase-42"


def _page(org):
    return f"/orgs/{org.public_id}/sessions/"


def _session_id(raw_refresh):
    return RefreshToken.objects.get(token_checksum=secret_format.digest(raw_refresh)).token_family


def _me(api, token):
    return api.get("/api/v1/me", **bearer(token))


def test_any_member_sees_their_own_sessions(client, api, agent, alice, org):
    pair_of(api, "agent@acme.test", user_agent="Agent phone")
    pair_of(api, "alice@acme.test", user_agent="Alice laptop")
    client.force_login(agent)
    response = client.get(_page(org))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Agent phone" in html
    assert "Alice laptop" not in html
    assert "End all other sessions" in html


def test_the_page_shows_no_secret(client, api, alice, org):
    pair = pair_of(api, "alice@acme.test")
    client.force_login(alice)
    html = client.get(_page(org)).content.decode()
    for secret in (pair["token"], pair["refreshToken"]):
        assert secret not in html and secret_format.digest(secret) not in html


def test_without_sessions_the_page_says_so(client, alice, org):
    client.force_login(alice)
    assert "no live login sessions" in client.get(_page(org)).content.decode()


def test_an_outsider_gets_404(client, mallory, org):
    client.force_login(mallory)
    assert client.get(_page(org)).status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(client, org):
    response = client.get(_page(org))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_developer_nav_and_org_home_link_to_sessions(client, dev, org):
    client.force_login(dev)
    assert _page(org) in client.get(f"/orgs/{org.public_id}/developer/").content.decode()
    assert _page(org) in client.get(f"/orgs/{org.public_id}/").content.decode()


def test_the_page_costs_the_same_queries_for_two_or_eight_sessions(client, api, alice, org):
    client.force_login(alice)
    for _ in range(2):
        pair_of(api, "alice@acme.test")
    with CaptureQueriesContext(connection) as two:
        client.get(_page(org))
    for _ in range(6):
        pair_of(api, "alice@acme.test")
    with CaptureQueriesContext(connection) as eight:
        response = client.get(_page(org))
    assert response.content.decode().count("End session") == 8
    assert len(eight) == len(two)


def test_ending_a_session_kills_its_token_at_once(client, api, alice, org):
    pair = pair_of(api, "alice@acme.test")
    other = pair_of(api, "alice@acme.test")
    client.force_login(alice)
    response = client.post(f"{_page(org)}{_session_id(pair['refreshToken'])}/end/")
    assert response.status_code == 302
    assert _me(api, pair["token"]).status_code == 401
    assert _me(api, other["token"]).status_code == 200
    assert "Session ended" in client.get(response["Location"]).content.decode()


def test_ending_a_session_with_htmx_swaps_just_its_row(client, api, alice, org):
    pair = pair_of(api, "alice@acme.test")
    session_id = _session_id(pair["refreshToken"])
    client.force_login(alice)
    response = client.post(f"{_page(org)}{session_id}/end/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="session-{session_id}"' in html and "<html" not in html
    assert _me(api, pair["token"]).status_code == 401


def test_ending_someone_elses_session_is_a_404(client, api, alice, dev, org):
    theirs = pair_of(api, "dev@acme.test")
    client.force_login(alice)
    response = client.post(f"{_page(org)}{_session_id(theirs['refreshToken'])}/end/")
    assert response.status_code == 404
    assert _me(api, theirs["token"]).status_code == 200


def test_ending_a_session_needs_a_post(client, api, alice, org):
    pair = pair_of(api, "alice@acme.test")
    client.force_login(alice)
    assert client.get(f"{_page(org)}{_session_id(pair['refreshToken'])}/end/").status_code == 405
    assert _me(api, pair["token"]).status_code == 200


def test_end_all_other_sessions_ends_every_listed_one(client, api, alice, dev, org):
    mine = [pair_of(api, "alice@acme.test") for _ in range(3)]
    theirs = pair_of(api, "dev@acme.test")
    client.force_login(alice)
    response = client.post(f"{_page(org)}end-all/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "3 sessions ended" in response.content.decode()
    assert all(_me(api, pair["token"]).status_code == 401 for pair in mine)
    assert _me(api, theirs["token"]).status_code == 200


def _change_password(client, org, *, old=PASSWORD, end_others=True):
    data = {"old_password": old, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    if end_others:
        data["end_other_sessions"] = "on"
    return client.post(f"/orgs/{org.public_id}/account/password/", data)


def test_the_password_page_offers_to_end_other_sessions_ticked(client, alice, org):
    client.force_login(alice)
    html = client.get(f"/orgs/{org.public_id}/account/password/").content.decode()
    assert "End every other session" in html
    assert 'name="end_other_sessions"' in html and "checked" in html


def test_changing_the_password_can_end_every_other_session(client, api, alice, org):
    pair = pair_of(api, "alice@acme.test")
    client.force_login(alice)
    response = _change_password(client, org)
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password(NEW_PASSWORD)
    assert _me(api, pair["token"]).status_code == 401
    assert client.get(_page(org)).status_code == 200  # this browser stays logged in


def test_changing_the_password_may_keep_the_other_sessions(client, api, alice, org):
    pair = pair_of(api, "alice@acme.test")
    client.force_login(alice)
    assert _change_password(client, org, end_others=False).status_code == 302
    assert _me(api, pair["token"]).status_code == 200


def test_a_wrong_current_password_changes_nothing(client, api, alice, org):
    pair = pair_of(api, "alice@acme.test")
    client.force_login(alice)
    response = _change_password(client, org, old="wrong")
    assert response.status_code == 200
    assert "incorrectly" in response.content.decode()
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)
    assert _me(api, pair["token"]).status_code == 200
