"""Admin › Audit log: every credential event of the organization, newest first."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import issue, login
from tokens.models import AuditEvent
from tokens.personal import services

pytestmark = pytest.mark.django_db


def audit_url(org):
    return reverse("audit_log", args=[org.public_id])


def event_ids(html):
    return [int(part.split('"')[0]) for part in html.split('id="audit-event-')[1:]]


def test_audit_log_lists_the_events_newest_first(client, alice, dev, org):
    token, _ = issue(dev, name="CI")
    services.rename_token(token=token, name="CI 2", by=dev)
    services.revoke_token(token=token, by=alice)
    login(client, alice)
    response = client.get(audit_url(org))
    assert response.status_code == 200
    newest_first = list(
        AuditEvent.objects.filter(organization=org)
        .order_by("-created_at", "-id")
        .values_list("pk", flat=True)
    )
    assert len(newest_first) == 3
    assert event_ids(response.content.decode()) == newest_first


def test_a_row_shows_when_who_action_kind_name_id_last4_and_ip(client, alice, dev, org):
    token, secret = issue(dev, name="CI", ip="198.51.100.4")
    event = AuditEvent.objects.get(credential_id=token.pk, action="issued")
    login(client, alice)
    html = client.get(audit_url(org)).content.decode()
    row = html.split(f'id="audit-event-{event.pk}"')[1].split("</tr>")[0]
    assert f"{timezone.localtime(event.created_at):%Y-%m-%d %H:%M:%S}" in row
    assert "dev@acme.test" in row and "Issued" in row and "personal" in row
    assert ">CI<" in row and f">{token.pk}<" in row
    assert f"<code>…{secret[-4:]}</code>" in row
    assert "198.51.100.4" in row
    assert secret not in html


def test_another_organizations_events_are_not_listed(client, alice, mallory, org):
    _theirs, _ = issue(mallory, name="globex secret project")
    login(client, alice)
    html = client.get(audit_url(org)).content.decode()
    assert "globex secret project" not in html


def _sixty_events(org, actor):
    now = timezone.now()
    AuditEvent.objects.bulk_create(
        AuditEvent(
            organization=org,
            actor=actor,
            action="renamed",
            credential_kind="personal",
            credential_id=n,
            created_at=now - datetime.timedelta(minutes=n),
        )
        for n in range(60)
    )


def test_the_audit_log_shows_50_events_a_page_in_constant_queries(client, alice, org):
    _sixty_events(org, alice)
    login(client, alice)
    with CaptureQueriesContext(connection) as first_queries:
        first = client.get(audit_url(org))
    last_shown = event_ids(first.content.decode())[-1]
    second = client.get(audit_url(org), {"after": last_shown})
    assert first.status_code == second.status_code == 200
    assert (
        len(event_ids(first.content.decode())) == 50
        and len(event_ids(second.content.decode())) == 10
    )
    assert len(first_queries) < 15


def test_the_next_page_starts_after_the_last_row_shown_even_when_events_arrive(client, alice, org):
    _sixty_events(org, alice)
    login(client, alice)
    first = event_ids(client.get(audit_url(org)).content.decode())
    issue(alice, name="arrived meanwhile")
    second = event_ids(client.get(audit_url(org), {"after": first[-1]}).content.decode())
    assert set(first).isdisjoint(second) and len(first) + len(second) == 60


def test_newer_goes_back_to_the_page_before(client, alice, org):
    _sixty_events(org, alice)
    login(client, alice)
    first = event_ids(client.get(audit_url(org)).content.decode())
    second = event_ids(client.get(audit_url(org), {"after": first[-1]}).content.decode())
    back = event_ids(client.get(audit_url(org), {"before": second[0]}).content.decode())
    assert back == first


def test_the_pager_keeps_the_filters(client, alice, org):
    _sixty_events(org, alice)
    login(client, alice)
    html = client.get(audit_url(org), {"action": "renamed"}).content.decode()
    assert "action=renamed&amp;after=" in html


def test_developer_gets_403(client, dev, org):
    login(client, dev)
    assert client.get(audit_url(org)).status_code == 403


def test_outsider_gets_404(client, mallory, org):
    login(client, mallory)
    assert client.get(audit_url(org)).status_code == 404
