"""Post/Redirect/Get for new secrets (tokens.handoff), through the portal's credential pages.

The POST holds the secret sealed in the cache under a handle only the session knows and
answers 303; the result page shows it once, records *secret shown* then, and says
"already shown" after; a form submitted twice with its submission id acts once.
"""

import datetime as dt
import re

import pytest
from django.core.cache import cache
from django.urls import reverse

from tests.factories import issue, login, make_api_key, make_client, membership
from tokens import handoff
from tokens.models import AccessToken, ApiKey, Application, AuditEvent

pytestmark = pytest.mark.django_db

TOKEN_SECRET = re.compile(r'<code id="new-token-secret">([^<]+)</code>')
ALREADY_SHOWN = "This secret was already shown"


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()


def org_url(name, org, *args):
    return reverse(name, args=[org.public_id, *args])


def generate(client, org, **fields):
    data = {"name": "CI", "expiry": "30", "scopes": ["read.me"], **fields}
    return client.post(org_url("token_create", org), data)


def test_the_post_answers_303_to_the_result_page_and_carries_no_secret(client, dev, org):
    login(client, dev)
    response = generate(client, org)
    token = AccessToken.objects.get()
    assert response.status_code == 303
    assert response["Location"] == org_url("token_secret", org, token.pk)
    assert "kw_pat_" not in response.content.decode() and "kw_pat_" not in response["Location"]


def test_the_result_page_shows_the_secret_once_then_says_already_shown(client, dev, org):
    login(client, dev)
    result = generate(client, org)["Location"]
    first = client.get(result)
    assert first.status_code == 200
    secret = TOKEN_SECRET.search(first.content.decode()).group(1)
    second = client.get(result)
    assert second.status_code == 200
    assert secret not in second.content.decode() and ALREADY_SHOWN in second.content.decode()
    assert AccessToken.objects.count() == 1


def test_secret_shown_is_recorded_when_the_result_page_shows_it_not_when_it_is_created(
    client, dev, org
):
    login(client, dev)
    result = generate(client, org)["Location"]
    token = AccessToken.objects.get()
    shown = AuditEvent.objects.filter(credential_id=token.pk, action="secret_shown")
    assert not shown.exists()
    client.get(result)
    client.get(result)
    assert shown.count() == 1


def test_the_result_page_is_never_stored_by_a_cache(client, dev, org):
    login(client, dev)
    response = client.get(generate(client, org)["Location"])
    assert "no-store" in response["Cache-Control"]


def test_the_held_secret_is_sealed_and_the_session_holds_only_a_handle(client, dev, org):
    login(client, dev)
    result = generate(client, org)["Location"]
    token = AccessToken.objects.get()
    held = client.session[f"held-secret:token:{token.pk}"]
    assert set(held) == {"handle", "how"}
    sealed = cache.get(f"held-secret:{held['handle']}")
    assert sealed and "kw_pat_" not in sealed
    secret = TOKEN_SECRET.search(client.get(result).content.decode()).group(1)
    assert secret not in str(dict(client.session))
    assert cache.get(f"held-secret:{held['handle']}") is None


def test_another_session_of_the_same_person_never_sees_the_secret(client, dev, org):
    login(client, dev)
    result = generate(client, org)["Location"]
    other = client.__class__()
    login(other, dev)
    response = other.get(result)
    assert response.status_code == 200
    assert ALREADY_SHOWN in response.content.decode()
    assert TOKEN_SECRET.search(
        client.get(result).content.decode()
    )  # still there for its own session


@pytest.fixture
def cache_clock(monkeypatch, settings):
    """Moves the clock the cache reads expiries by (Django's database cache, as in tests), so a
    held secret's time runs out the way it does in production, without waiting for it."""
    from django.core.cache.backends import db

    assert settings.CACHES["default"]["BACKEND"].endswith("DatabaseCache")
    real_now = db.tz_now

    def move_forward(seconds):
        monkeypatch.setattr(db, "tz_now", lambda: real_now() + dt.timedelta(seconds=seconds))

    return move_forward


def test_a_secret_not_collected_in_time_is_gone(client, dev, org, cache_clock):
    login(client, dev)
    result = generate(client, org)["Location"]
    cache_clock(handoff.HELD_FOR + 1)
    page = client.get(result).content.decode()
    assert ALREADY_SHOWN in page and not TOKEN_SECRET.search(page)


def test_a_secret_collected_just_in_time_is_shown(client, dev, org, cache_clock):
    login(client, dev)
    result = generate(client, org)["Location"]
    cache_clock(handoff.HELD_FOR - 5)
    assert TOKEN_SECRET.search(client.get(result).content.decode())


def test_an_outsider_gets_404_for_the_result_page(client, dev, mallory, org):
    login(client, dev)
    result = generate(client, org)["Location"]
    client.logout()
    login(client, mallory)
    assert client.get(result).status_code == 404


def test_a_double_submit_creates_one_token_and_both_land_on_its_result_page(client, dev, org):
    login(client, dev)
    first = generate(client, org, submission="abc123")
    second = generate(client, org, submission="abc123")
    assert (first.status_code, second.status_code) == (303, 303)
    assert AccessToken.objects.count() == 1
    assert second["Location"] == first["Location"]


def test_a_form_with_errors_may_be_submitted_again_with_the_same_id(client, dev, org):
    login(client, dev)
    assert generate(client, org, name="", submission="abc123").status_code == 400
    assert generate(client, org, submission="abc123").status_code == 303
    assert AccessToken.objects.count() == 1


def test_a_submission_id_is_per_person(client, dev, alice, org):
    login(client, dev)
    generate(client, org, submission="abc123")
    client.logout()
    login(client, alice)
    generate(client, org, submission="abc123")
    assert AccessToken.objects.count() == 2


def test_every_form_that_creates_or_changes_a_secret_carries_a_fresh_submission_id(
    client, dev, org
):
    token, _ = issue(dev)
    key, _ = make_api_key(dev, scopes=("read.me",))
    application, _ = make_client(dev)
    login(client, dev)
    pages = [
        client.get(org_url("tokens", org)),
        client.get(org_url("token_rotate_confirm", org, token.pk), {"grace_period": "1h"}),
        client.get(org_url("api_keys", org)),
        client.get(org_url("api_key_rotate_confirm", org, key.pk), {"grace": "1h"}),
        client.get(org_url("oauth_clients", org)),
        client.get(org_url("oauth_client_regenerate_confirm", org, application.pk)),
    ]
    ids = [
        re.search(r'name="submission" value="([^"]+)"', page.content.decode()).group(1)
        for page in pages
    ]
    assert len(set(ids)) == len(ids)


def test_a_double_submitted_rotation_rotates_once(client, dev, org):
    token, _ = issue(dev)
    login(client, dev)
    url = org_url("token_rotate", org, token.pk)
    first = client.post(url, {"grace_period": "1h", "submission": "r1"})
    second = client.post(url, {"grace_period": "1h", "submission": "r1"})
    assert second["Location"] == first["Location"]
    assert AccessToken.objects.personal().count() == 2


def test_a_double_submitted_api_key_rotation_rotates_once(client, dev, org):
    key, _ = make_api_key(dev, scopes=("read.me",))
    login(client, dev)
    url = org_url("api_key_rotate", org, key.pk)
    client.post(url, {"grace": "none", "submission": "r1"})
    digest = ApiKey.objects.get().secret_digest
    client.post(url, {"grace": "none", "submission": "r1"})
    assert ApiKey.objects.get().secret_digest == digest


def test_a_double_submitted_regeneration_keeps_the_secret_just_shown(client, dev, org):
    application, _ = make_client(dev)
    login(client, dev)
    url = org_url("oauth_client_regenerate_secret", org, application.pk)
    client.post(url, {"submission": "r1"})
    stored = Application.objects.get().client_secret
    client.post(url, {"submission": "r1"})
    assert Application.objects.get().client_secret == stored


def test_a_double_submitted_registration_registers_one_client(client, dev, org):
    login(client, dev)
    data = {
        "name": "App",
        "redirect_uris": "https://app.example.com/cb",
        "client_type": "confidential",
        "submission": "c1",
    }
    client.post(org_url("oauth_client_create", org), data)
    client.post(org_url("oauth_client_create", org), data)
    assert Application.objects.count() == 1


def test_api_key_and_oauth_result_pages_show_the_secret_once(client, dev, org):
    login(client, dev)
    key_result = client.post(
        org_url("api_key_create", org), {"name": "server", "scopes": ["read.me"]}
    )["Location"]
    client_result = client.post(
        org_url("oauth_client_create", org),
        {
            "name": "App",
            "redirect_uris": "https://app.example.com/cb",
            "client_type": "confidential",
        },
    )["Location"]
    for result, marker in [
        (key_result, 'id="new-key-secret"'),
        (client_result, 'id="oauth-client-secret"'),
    ]:
        assert marker in client.get(result).content.decode()
        again = client.get(result).content.decode()
        assert marker not in again and ALREADY_SHOWN in again
    assert (ApiKey.objects.count(), Application.objects.count()) == (1, 1)


def test_take_without_a_hold_is_none(rf, dev, org):
    request = rf.get("/")
    request.session = {}
    request.user = dev
    token, _ = issue(dev)
    assert handoff.take(request, token, slot=f"token:{token.pk}") is None


def test_rotation_asks_first_and_the_confirmation_names_the_consequence(client, dev, org):
    token, _ = issue(dev)
    login(client, dev)
    now = client.get(org_url("token_rotate_confirm", org, token.pk), {"grace_period": "none"})
    later = client.get(org_url("token_rotate_confirm", org, token.pk), {"grace_period": "24h"})
    assert "The old secret stops working at once" in now.content.decode()
    assert "The old secret keeps working for 24 hours, until" in later.content.decode()
    assert AccessToken.objects.personal().count() == 1


def test_no_grace_period_is_preselected_and_none_picked_is_refused(client, dev, org):
    token, _ = issue(dev)
    key, _ = make_api_key(dev, scopes=("read.me",))
    login(client, dev)
    detail = client.get(org_url("token_detail", org, token.pk)).content.decode()
    assert (
        'name="grace_period" value="none" required>' in detail
        and "checked" not in detail.split('id="token-rotate"')[1].split("</form>")[0]
    )
    response = client.get(org_url("token_rotate_confirm", org, token.pk))
    assert (
        response.status_code == 400
        and "Pick how long the old secret keeps working." in response.content.decode()
    )
    assert client.get(org_url("api_key_rotate_confirm", org, key.pk)).status_code == 400


def test_renaming_to_the_same_name_changes_nothing_and_is_not_audited(client, dev, org):
    token, _ = issue(dev, name="CI")
    key, _ = make_api_key(dev, scopes=("read.me",), name="server")
    login(client, dev)
    client.post(org_url("token_rename", org, token.pk), {"name": "CI"})
    client.post(org_url("api_key_rename", org, key.pk), {"name": " server "})
    assert not AuditEvent.objects.filter(action="renamed").exists()


def test_an_organization_key_acts_as_the_organization_in_words(client, alice, org):
    key, _ = make_api_key(alice, scopes=("read.me",))
    login(client, alice)
    html = client.get(org_url("api_key_detail", org, key.pk)).content.decode()
    assert '<dd id="api-key-acts-as">Acme (organization)</dd>' in html
    assert "keyward.invalid" not in client.get(org_url("api_keys", org)).content.decode()
    assert membership(alice).organization == org
