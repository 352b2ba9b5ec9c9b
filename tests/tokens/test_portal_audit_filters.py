"""Admin › Audit log: filters in the URL (who, action, kind, time, name or last four) and the
CSV export of exactly the filtered rows, safe to open in a spreadsheet."""

import csv
import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import issue, login
from tokens.audit_log import spreadsheet_safe
from tokens.models import AuditEvent
from tokens.personal import services

pytestmark = pytest.mark.django_db


def audit_url(org):
    return reverse("audit_log", args=[org.public_id])


def export_url(org):
    return reverse("audit_log_export", args=[org.public_id])


def event_ids(html):
    return [int(part.split('"')[0]) for part in html.split('id="audit-event-')[1:]]


def ids_of(**filters):
    return set(AuditEvent.objects.filter(**filters).values_list("pk", flat=True))


def test_filtering_by_actor_lists_only_their_events(client, alice, dev, org):
    issue(dev, name="by dev")
    issue(alice, name="by alice")
    login(client, alice)
    html = client.get(audit_url(org), {"actor": dev.pk}).content.decode()
    assert set(event_ids(html)) == ids_of(organization=org, actor=dev)


def test_filtering_by_action_lists_only_that_action(client, alice, dev, org):
    token, _ = issue(dev, name="CI")
    services.revoke_token(token=token, by=alice)
    login(client, alice)
    html = client.get(audit_url(org), {"action": "revoked"}).content.decode()
    assert set(event_ids(html)) == ids_of(organization=org, action="revoked")


def test_filtering_by_kind_lists_only_that_credential_kind(client, alice, dev, org):
    issue(dev, name="CI")
    AuditEvent.objects.create(organization=org, action="member_added", credential_kind="member")
    login(client, alice)
    html = client.get(audit_url(org), {"kind": "member"}).content.decode()
    assert set(event_ids(html)) == ids_of(organization=org, credential_kind="member")


def test_filtering_by_time_range_keeps_the_days_given(client, alice, org):
    today = timezone.now()
    old = AuditEvent.objects.create(
        organization=org, action="renamed", created_at=today - datetime.timedelta(days=10)
    )
    recent = AuditEvent.objects.create(organization=org, action="renamed", created_at=today)
    login(client, alice)
    since = (today - datetime.timedelta(days=1)).date().isoformat()
    html = client.get(audit_url(org), {"since": since}).content.decode()
    assert recent.pk in event_ids(html) and old.pk not in event_ids(html)
    until = (today - datetime.timedelta(days=5)).date().isoformat()
    html = client.get(audit_url(org), {"until": until}).content.decode()
    assert event_ids(html) == [old.pk]


def test_searching_finds_a_credential_by_name_or_last_four(client, alice, dev, org):
    _token, secret = issue(dev, name="Billing sync")
    issue(dev, name="Other")
    login(client, alice)
    by_name = event_ids(client.get(audit_url(org), {"q": "billing"}).content.decode())
    by_last4 = event_ids(client.get(audit_url(org), {"q": "…" + secret[-4:]}).content.decode())
    assert set(by_name) == set(by_last4) == ids_of(credential_name="Billing sync")


def test_a_filter_with_a_bad_value_is_ignored_not_an_error(client, alice, dev, org):
    issue(dev, name="CI")
    login(client, alice)
    response = client.get(audit_url(org), {"since": "yesterday", "actor": "x", "after": "y"})
    assert response.status_code == 200
    assert len(event_ids(response.content.decode())) == 1


def test_the_export_holds_exactly_the_filtered_rows(client, alice, dev, org):
    token, _ = issue(dev, name="CI")
    services.revoke_token(token=token, by=alice)
    login(client, alice)
    response = client.get(export_url(org), {"action": "revoked"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["When (UTC)", "Who", "Action"]
    assert [row[2] for row in rows[1:]] == ["Revoked"]


@pytest.mark.parametrize("start", ["=", "+", "-", "@"])
def test_an_exported_cell_that_starts_like_a_formula_is_quoted(client, alice, org, start):
    AuditEvent.objects.create(
        organization=org, action="renamed", credential_name=f"{start}HYPERLINK(1)"
    )
    login(client, alice)
    response = client.get(export_url(org))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[1][5] == f"'{start}HYPERLINK(1)"


def test_an_ordinary_cell_is_exported_as_it_is():
    assert spreadsheet_safe("Billing sync") == "Billing sync"


def test_the_export_leaves_out_another_organizations_events(client, alice, mallory, org):
    issue(mallory, name="globex secret project")
    login(client, alice)
    body = b"".join(client.get(export_url(org)).streaming_content).decode()
    assert "globex secret project" not in body


def test_a_developer_gets_403_from_the_export(client, dev, org):
    login(client, dev)
    assert client.get(export_url(org)).status_code == 403


def test_an_outsider_gets_404_from_the_export(client, mallory, org):
    login(client, mallory)
    assert client.get(export_url(org)).status_code == 404
