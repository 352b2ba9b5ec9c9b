"""Creation notices and expiry reminders: who is told what, and each reminder only once."""

import datetime as dt
import re
from html import escape

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import User
from tests.factories import issue, login_pair, make_api_key, make_client, membership
from tokens import audit, lifecycle, notifications
from tokens.models import AccessToken, AuditEvent, ExpiryReminder
from tokens.personal import services

LINK = re.compile(r"https://keyward\.example/\S+")
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def immediate(settings):
    """Tasks run in the test's own process, as soon as they are enqueued."""
    settings.TASKS = IMMEDIATE
    settings.PORTAL_BASE_URL = "https://keyward.example"


@pytest.fixture
def emitted():
    events = []

    def emitter(organization, event_type, payload):
        if event_type in lifecycle.ANNOUNCED_ACTIONS.values():
            return  # what every write announces (tests/chats); here, what the workers emit
        events.append((organization.pk, event_type, payload))

    lifecycle.connect(emitter)
    yield events
    lifecycle.disconnect(emitter)


def html_of(message):
    ((body, mimetype),) = message.alternatives
    assert mimetype == "text/html"
    return body


def test_a_personal_token_tells_its_owner_what_was_created_where_and_never_the_secret(
    immediate, dev, alice, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        token, secret = issue(
            dev, name="CI deploys", scopes=("read.me", "read.chats"), ip="203.0.113.9"
        )

    (message,) = mail.outbox
    assert message.to == ["dev@acme.test"]
    assert '"CI deploys"' in message.subject and f"…{token.last4}" in message.subject
    for body in (message.body, html_of(message)):
        assert "CI deploys" in body and token.last4 in body and "Acme" in body
        assert "read.chats" in body and "203.0.113.9" in body and "dev@acme.test" in body
        assert f"https://keyward.example/orgs/{token.organization.public_id}/" in body
        assert secret not in body and token.token_checksum not in body


def test_an_organization_owned_api_key_tells_the_admins(
    immediate, alice, bot, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _key, secret = make_api_key(alice, scopes=("read.chats",), name="Backend")
    assert sorted(m.to[0] for m in mail.outbox) == ["alice@acme.test"]
    assert "API key" in mail.outbox[0].subject
    assert secret not in mail.outbox[0].body


def test_an_oauth_client_is_announced_but_logins_are_not(
    immediate, dev, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        make_client(dev, name="Reporting app")
        login_pair(dev)
    assert [m.subject for m in mail.outbox] == [mail.outbox[0].subject]
    assert "OAuth client" in mail.outbox[0].subject


def test_authorizing_an_oauth_client_is_announced_but_its_refreshes_are_not(
    immediate, dev, django_capture_on_commit_callbacks
):
    from tests.tokens.oauth.helpers import grant, post_form

    application, secret = make_client(dev, name="Reporting app")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        body = grant(dev, application, secret)
    (message,) = mail.outbox
    assert "OAuth access token" in message.subject and '"Reporting app"' in message.subject
    assert "read.me" in message.body
    assert body["access_token"] not in message.body
    with django_capture_on_commit_callbacks(execute=True):
        refreshed = post_form(
            "/o/token/",
            {
                "grant_type": "refresh_token",
                "refresh_token": body["refresh_token"],
                "client_id": application.client_id,
                "client_secret": secret,
            },
        )
    assert refreshed.status_code == 200, refreshed.content
    assert len(mail.outbox) == 1


def test_a_rolled_back_issue_sends_nothing(immediate, dev, django_capture_on_commit_callbacks):
    from django.db import transaction

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                issue(dev)
                raise RuntimeError
        except RuntimeError:
            pass
    assert callbacks == [] and mail.outbox == []


def _service_accounts_token(alice, bot):
    return services.issue_personal_token(
        issuer=membership(alice), owner=membership(bot), name="Nightly sync", scopes=["read.me"]
    ).credential


def _created_for_a_service_account(alice, dev, bot):
    _service_accounts_token(alice, bot)


def _created_for_the_organization(alice, dev, bot):
    make_api_key(alice, scopes=("read.chats",), name="Nightly sync")


def _a_service_accounts_token_expiring(alice, dev, bot):
    token = _service_accounts_token(alice, bot)
    AccessToken.objects.filter(pk=token.pk).update(expires=timezone.now() + dt.timedelta(days=3))
    mail.outbox.clear()
    notifications.send_due_reminders(now=timezone.now())


def _a_developers_token_leaked(alice, dev, bot):
    token, _ = issue(dev, name="Nightly sync")
    token.revoke()
    event = audit.record(
        action=AuditEvent.Action.LEAKED, credential=token, detail="found at https://x.test/.env"
    )
    mail.outbox.clear()
    notifications.send_leak_notice.call(event.pk)


@pytest.mark.parametrize(
    "happening",
    [
        _created_for_a_service_account,
        _created_for_the_organization,
        _a_service_accounts_token_expiring,
        _a_developers_token_leaked,
    ],
    ids=lambda happening: happening.__name__.strip("_"),
)
def test_every_link_in_a_credential_email_opens_a_page_its_reader_can_see(
    immediate, client, alice, dev, bot, happening, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        happening(alice, dev, bot)
    assert mail.outbox
    for message in mail.outbox:
        (reader,) = message.to
        (link,) = set(LINK.findall(message.body))
        assert f'href="{escape(link)}"' in html_of(message)
        client.force_login(User.objects.get(email=reader))
        page = client.get(link.removeprefix("https://keyward.example"))
        assert page.status_code == 200, (reader, link)
        if reader == "alice@acme.test":
            assert "Nightly sync" in page.content.decode(), (reader, link)


NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    "expires, stage",
    [
        (NOW + dt.timedelta(days=8), None),
        (NOW + dt.timedelta(days=7), "7d"),
        (NOW + dt.timedelta(hours=16), "7d"),  # tomorrow 01:00: not the day yet
        (NOW + dt.timedelta(hours=3), "day0"),
        (NOW - dt.timedelta(hours=3), "day0"),  # expired this morning: still the day's reminder
        (NOW - dt.timedelta(days=2), None),  # long dead: nobody is reminded
    ],
)
def test_which_reminder_is_due(expires, stage):
    assert notifications.due_stage(expires, NOW) == stage


def test_each_reminder_is_claimed_once_and_the_day_one_emits_the_lifecycle_event(
    immediate, dev, emitted, django_capture_on_commit_callbacks
):
    token, _ = issue(dev, name="Nightly", expires_at=timezone.now() + dt.timedelta(days=7))
    mail.outbox.clear()
    soon = timezone.now() + dt.timedelta(minutes=5)
    with django_capture_on_commit_callbacks(execute=True):
        assert notifications.send_due_reminders(now=soon) == "1 reminder(s) claimed"
        assert notifications.send_due_reminders(now=soon) == "0 reminder(s) claimed"
    (week,) = mail.outbox
    assert "expires in 7 days" in week.subject and "Nightly" in week.subject
    assert f"/developer/tokens/{token.pk}/" in week.body or str(token.pk) in week.body
    assert emitted == []

    # Half an hour before expiry, but on its day: a token made just after midnight expires
    # just after the next week's midnight, when half an hour before is still the day before.
    day_starts = timezone.localtime(token.expires).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    on_the_day = max(day_starts, token.expires - dt.timedelta(minutes=30))
    with django_capture_on_commit_callbacks(execute=True):
        notifications.send_due_reminders(now=on_the_day)
        notifications.send_due_reminders(now=token.expires + dt.timedelta(hours=1))
    assert len(mail.outbox) == 2 and "expires today" in mail.outbox[1].subject
    assert [(e[1], e[2]["credential"]["id"]) for e in emitted] == [
        ("credential.expiring", token.pk)
    ]
    assert emitted[0][2]["credential"]["last4"] == token.last4
    assert sorted(ExpiryReminder.objects.values_list("stage", flat=True)) == ["7d", "day0"]
    assert all(r.sent_at for r in ExpiryReminder.objects.all())


def test_the_week_reminder_says_how_many_days_are_actually_left(
    immediate, dev, django_capture_on_commit_callbacks
):
    """A token made with three days to live is due its week reminder at once: three days, not seven."""
    issue(dev, name="Short", expires_at=timezone.now() + dt.timedelta(days=3))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        notifications.send_due_reminders(now=timezone.now())
    (message,) = mail.outbox
    assert "expires in 3 days" in message.subject
    for body in (message.body, html_of(message)):
        assert ", in 3 days." in body and "7 days" not in body


def test_a_day_reminder_that_comes_late_says_expired(
    immediate, dev, emitted, django_capture_on_commit_callbacks
):
    token, _ = issue(dev, expires_at=timezone.now() + dt.timedelta(days=2))
    with django_capture_on_commit_callbacks(execute=True):
        notifications.send_due_reminders(now=token.expires + dt.timedelta(hours=2))
    assert emitted[0][1] == "credential.expired"
    assert "has expired" in mail.outbox[-1].subject


def test_revoked_tokens_and_tokens_without_expiry_get_no_reminder(
    immediate, dev, django_capture_on_commit_callbacks
):
    issue(dev, name="forever")
    revoked, _ = issue(dev, name="gone", expires_at=timezone.now() + dt.timedelta(days=3))
    revoked.revoke()
    assert notifications.send_due_reminders(now=timezone.now()) == "0 reminder(s) claimed"
