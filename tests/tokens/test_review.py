"""The offboarding review: what a member leaves behind waits for an admin's decision."""

import json

import pytest
from django.core import mail

from chats.models import WebhookEvent
from tests.chats.receiver import Receiver
from tests.factories import bearer, issue, login, make_api_key, make_client, membership
from tokens.models import AccessToken, ApiKey, ReviewItem

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def tasks_run_in_process(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def admin_secret(alice):
    return issue(alice, scopes=["admin"])[1]


@pytest.fixture
def devs_credentials(dev):
    """dev's personal token, an API key dev created (acting as Acme) and dev's OAuth client."""
    token, _ = issue(dev, scopes=["read.users", "read.me"], name="deploy bot")
    key, _ = make_api_key(dev, scopes=["read.me"], name="ci key")
    client, _ = make_client(dev, name="dashboard")
    return token, key, client


def remove(api, secret, user, capture):
    with capture(execute=True):
        response = api.delete(f"/api/v1/users/{user.pk}", **bearer(secret))
    assert response.status_code == 204
    return response


def test_removing_a_member_puts_their_live_credentials_in_the_review_and_tells_admins(
    api, alice, dev, bot, admin_secret, devs_credentials, django_capture_on_commit_callbacks
):
    token, key, client = devs_credentials
    remove(api, admin_secret, dev, django_capture_on_commit_callbacks)
    items = ReviewItem.objects.open()
    assert {(i.credential_kind, i.credential_id) for i in items} == {
        ("personal", token.pk),
        ("api_key", key.pk),
        ("oauth_client", client.pk),
    }
    assert {(i.member_id, i.member_email, i.reason) for i in items} == {
        (dev.pk, "dev@acme.test", "removed")
    }
    assert (
        AccessToken.objects.get(pk=token.pk).membership is None
    )  # the review still knows whose it was
    [notice] = mail.outbox
    assert notice.to == ["alice@acme.test"]
    assert notice.subject == "[Keyward] 3 credentials of dev@acme.test need a decision"
    assert "/admin/review/" in notice.body


def test_one_credential_left_behind_needs_a_decision_in_the_singular(
    api, alice, dev, admin_secret, django_capture_on_commit_callbacks
):
    issue(dev, scopes=["read.me"], name="deploy bot")
    remove(api, admin_secret, dev, django_capture_on_commit_callbacks)
    [notice] = mail.outbox
    assert "1 credential of dev@acme.test needs a decision" in notice.subject
    assert "1 credential of dev@acme.test in Acme needs a decision" in notice.body


def test_the_review_list_in_the_api_and_the_portal(
    api, client, alice, dev, admin_secret, devs_credentials, django_capture_on_commit_callbacks
):
    remove(api, admin_secret, dev, django_capture_on_commit_callbacks)
    listed = api.get("/api/v1/credential-reviews", **bearer(admin_secret))
    assert listed.status_code == 200
    assert sorted(r["credentialName"] for r in listed.json()["results"]) == [
        "ci key",
        "dashboard",
        "deploy bot",
    ]
    assert {
        r["canReissue"] for r in listed.json()["results"] if r["credentialKind"] == "oauth_client"
    } == {False}
    page = login(client, alice).get(
        f"/orgs/{membership(alice).organization.public_id}/admin/review/"
    )
    assert page.status_code == 200
    assert "3 credentials of dev@acme.test need a decision" in page.content.decode()


def test_a_webhook_hears_member_access_changed(
    api, alice, dev, admin_secret, devs_credentials, django_capture_on_commit_callbacks
):
    with Receiver() as receiver:
        api.post(
            "/api/v1/webhooks",
            {"url": receiver.url, "eventCategories": ["credentials"]},
            format="json",
            **bearer(admin_secret),
        )
        remove(api, admin_secret, dev, django_capture_on_commit_callbacks)
    [event] = [e for e in receiver.events() if e["type"] == "member.access_changed"]
    assert event["data"]["member"]["email"] == "dev@acme.test"
    assert (
        event["data"]["change"],
        event["data"]["after"],
        event["data"]["credentialsToReview"],
    ) == ("removed", None, 3)


def test_revoke_keep_and_the_decision_is_recorded(
    api, alice, dev, admin_secret, devs_credentials, django_capture_on_commit_callbacks
):
    token, key, _client = devs_credentials
    remove(api, admin_secret, dev, django_capture_on_commit_callbacks)
    token_item = ReviewItem.objects.get(credential_kind="personal")
    key_item = ReviewItem.objects.get(credential_kind="api_key")
    revoked = api.post(f"/api/v1/credential-reviews/{key_item.pk}/revoke", **bearer(admin_secret))
    assert (revoked.status_code, revoked.json()["decision"]) == (200, "revoked")
    assert ApiKey.objects.get(pk=key.pk).revoked_at is not None
    kept = api.post(f"/api/v1/credential-reviews/{token_item.pk}/keep", **bearer(admin_secret))
    assert (kept.status_code, kept.json()["decision"]) == (200, "kept")
    assert AccessToken.objects.get(pk=token.pk).revoked_at is None
    again = api.post(f"/api/v1/credential-reviews/{token_item.pk}/revoke", **bearer(admin_secret))
    assert (again.status_code, again.json()["code"]) == (409, "review_decided")
    assert len(api.get("/api/v1/credential-reviews", **bearer(admin_secret)).json()["results"]) == 1
    assert (
        len(
            api.get("/api/v1/credential-reviews?status=all", **bearer(admin_secret)).json()[
                "results"
            ]
        )
        == 3
    )


def test_an_integration_is_reissued_to_a_service_account_with_its_secret_shown_once(
    api, alice, dev, bot, admin_secret, devs_credentials, django_capture_on_commit_callbacks
):
    token, _key, _client = devs_credentials
    remove(api, admin_secret, dev, django_capture_on_commit_callbacks)
    item = ReviewItem.objects.get(credential_kind="personal")
    response = api.post(
        f"/api/v1/credential-reviews/{item.pk}/reissue",
        {"owner": bot.pk},
        format="json",
        **bearer(admin_secret),
    )
    assert response.status_code == 201 and response["Cache-Control"] == "no-store"
    new = AccessToken.objects.get(pk=response.json()["credentialId"])
    assert (new.membership.user, new.scope, new.name) == (bot, token.scope, "deploy bot")
    assert AccessToken.objects.get(pk=token.pk).revoked_at is not None
    me = api.get("/api/v1/me", **bearer(response.json()["secret"]))
    assert (me.status_code, me.json()["email"]) == (200, "bot@acme.test")
    listed = api.get("/api/v1/credential-reviews?status=all", **bearer(admin_secret)).json()[
        "results"
    ]
    assert response.json()["secret"] not in json.dumps(listed)


def test_reissue_to_someone_not_a_service_account_is_refused(
    api, alice, dev, agent, admin_secret, devs_credentials, django_capture_on_commit_callbacks
):
    remove(api, admin_secret, dev, django_capture_on_commit_callbacks)
    item = ReviewItem.objects.get(credential_kind="api_key")
    response = api.post(
        f"/api/v1/credential-reviews/{item.pk}/reissue",
        {"owner": agent.pk},
        format="json",
        **bearer(admin_secret),
    )
    assert (response.status_code, response.json()["code"]) == (400, "owner_not_service_account")
    assert ReviewItem.objects.get(pk=item.pk).decided_at is None


def test_a_demotion_reviews_only_the_credentials_its_scopes_outgrow(
    api, alice, dev, admin_secret, django_capture_on_commit_callbacks
):
    wide, _ = issue(dev, scopes=["read.users"], name="wide")
    issue(dev, scopes=["read.me"], name="narrow")
    with django_capture_on_commit_callbacks(execute=True):
        response = api.patch(
            f"/api/v1/users/{dev.pk}", {"role": "agent"}, format="json", **bearer(admin_secret)
        )
    assert response.status_code == 200
    [item] = ReviewItem.objects.open()
    assert (item.credential_id, item.reason, item.detail) == (
        wide.pk,
        "demoted",
        "role bot -> agent",
    )
    assert len(mail.outbox) == 1


def test_losing_developer_access_reviews_every_credential(
    api, alice, dev, admin_secret, devs_credentials, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.patch(
            f"/api/v1/users/{dev.pk}",
            {"developerAccess": False},
            format="json",
            **bearer(admin_secret),
        )
    assert (response.status_code, response.json()["developerAccess"]) == (200, False)
    assert ReviewItem.objects.open().filter(reason="developer_access_lost").count() == 3
    assert "member_changed" in {
        e.action for e in dev.memberships.get().organization.audit_events.all()
    }


def test_a_raise_opens_nothing(api, alice, agent, admin_secret, django_capture_on_commit_callbacks):
    issue(agent, scopes=["read.me"])
    with django_capture_on_commit_callbacks(execute=True):
        api.patch(
            f"/api/v1/users/{agent.pk}", {"role": "bot"}, format="json", **bearer(admin_secret)
        )
    assert not ReviewItem.objects.exists() and mail.outbox == []


def test_another_organization_sees_nothing_of_the_review(
    api, alice, dev, mallory, admin_secret, devs_credentials, django_capture_on_commit_callbacks
):
    remove(api, admin_secret, dev, django_capture_on_commit_callbacks)
    item = ReviewItem.objects.first()
    _t, outsider = issue(mallory, scopes=["admin"])
    assert api.get("/api/v1/credential-reviews", **bearer(outsider)).json()["results"] == []
    for action in ("revoke", "keep", "reissue"):
        answer = api.post(f"/api/v1/credential-reviews/{item.pk}/{action}", **bearer(outsider))
        assert (answer.status_code, answer.json()["code"]) == (404, "not_found")
    assert ReviewItem.objects.get(pk=item.pk).decided_at is None


def test_only_admins_hold_the_review_scopes(api, dev, agent):
    _t, secret = issue(dev, scopes=["bot"])
    answer = api.get("/api/v1/credential-reviews", **bearer(secret))
    assert (answer.status_code, answer.json()["code"]) == (403, "insufficient_scope")


def test_the_portal_decides_and_shows_a_reissued_secret_once(
    api, client, alice, dev, bot, admin_secret, devs_credentials, django_capture_on_commit_callbacks
):
    remove(api, admin_secret, dev, django_capture_on_commit_callbacks)
    org_id = membership(alice).organization.public_id
    login(client, alice)
    key_item = ReviewItem.objects.get(credential_kind="api_key")
    client_item = ReviewItem.objects.get(credential_kind="oauth_client")
    shown = client.post(f"/orgs/{org_id}/admin/review/{key_item.pk}/reissue/", {"owner": bot.pk})
    assert shown.status_code == 201 and shown["Cache-Control"] == "no-store"
    new_key = ApiKey.objects.get(pk=ReviewItem.objects.get(pk=key_item.pk).replacement_id)
    assert new_key.membership.user == bot
    assert 'id="reissued-secret"' in shown.content.decode()
    revoked = client.post(f"/orgs/{org_id}/admin/review/{client_item.pk}/revoke/")
    assert revoked.status_code == 302
    page = client.get(f"/orgs/{org_id}/admin/review/").content.decode()
    assert (
        'id="reissued-secret"' not in page
        and "1 credential of dev@acme.test needs a decision" in page
    )


def test_the_review_page_is_for_admins(client, dev):
    response = login(client, dev).get(
        f"/orgs/{membership(dev).organization.public_id}/admin/review/"
    )
    assert response.status_code == 403


def test_no_webhook_event_is_recorded_when_nobody_listens(alice, dev, devs_credentials):
    assert not WebhookEvent.objects.exists()


@pytest.mark.parametrize("owner", ["abc", "", "٣", "99999999999999999999999"])
def test_the_portal_refuses_a_bad_owner_with_400(
    api,
    client,
    alice,
    dev,
    admin_secret,
    devs_credentials,
    django_capture_on_commit_callbacks,
    owner,
):
    remove(api, admin_secret, dev, django_capture_on_commit_callbacks)
    item = ReviewItem.objects.get(credential_kind="api_key")
    org_id = membership(alice).organization.public_id
    response = login(client, alice).post(
        f"/orgs/{org_id}/admin/review/{item.pk}/reissue/", {"owner": owner}
    )
    assert response.status_code == 400 and "Pick a service account" in response.content.decode()
    assert ReviewItem.objects.get(pk=item.pk).decided_at is None


@pytest.mark.parametrize("owner", ["abc", None, -1, 2**70, [1]])
def test_the_api_refuses_a_bad_owner_with_400(
    api, alice, dev, admin_secret, devs_credentials, django_capture_on_commit_callbacks, owner
):
    remove(api, admin_secret, dev, django_capture_on_commit_callbacks)
    item = ReviewItem.objects.get(credential_kind="api_key")
    response = api.post(
        f"/api/v1/credential-reviews/{item.pk}/reissue",
        {"owner": owner},
        format="json",
        **bearer(admin_secret),
    )
    assert response.status_code == 400 and "code" in response.json()
