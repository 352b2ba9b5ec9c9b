"""The admin's audit log: filters that live in the URL, keyset pages, and a CSV export of
exactly the filtered rows.

Keyset paging (WHERE (created_at, id) < the last row's) costs the same on page 1,000 as on
page 1 and never skips or repeats a row while new events arrive, which OFFSET paging does.
"""

import csv
import datetime

from django import forms
from django.db.models import Q
from django.utils import timezone

from accounts.models import User

from .models import AuditEvent, CredentialKind

EVENTS_PER_PAGE = 50
FILTERS = ("actor", "action", "kind", "since", "until", "q")
# A spreadsheet runs a cell starting with one of these as a formula (OWASP "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class AuditFilterForm(forms.Form):
    """What an admin can narrow the log to; every field optional, and a bad value is ignored."""

    actor = forms.TypedChoiceField(label="Who", required=False, coerce=int, empty_value=None)
    action = forms.ChoiceField(
        label="Action", required=False, choices=[("", "Any action"), *AuditEvent.Action.choices]
    )
    kind = forms.ChoiceField(
        label="Kind", required=False, choices=[("", "Any kind"), *CredentialKind.choices]
    )
    since = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    q = forms.CharField(
        label="Name or last four",
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name or last four"}),
    )

    def __init__(self, data, *, organization):
        super().__init__(data)
        people = User.objects.filter(memberships__organization=organization).order_by("email")
        self.fields["actor"].choices = [
            ("", "Anyone"),
            *((user.pk, user.email) for user in people.only("pk", "email")),
        ]

    def filter(self, events):
        """`events` narrowed to the valid filters (an invalid one is left out, not an error)."""
        self.is_valid()
        data = {name: self.cleaned_data.get(name) for name in FILTERS if name not in self.errors}
        if data.get("actor"):
            events = events.filter(actor_id=data["actor"])
        if data.get("action"):
            events = events.filter(action=data["action"])
        if data.get("kind"):
            events = events.filter(credential_kind=data["kind"])
        if data.get("since"):
            events = events.filter(created_at__gte=_start_of(data["since"]))
        if data.get("until"):
            events = events.filter(
                created_at__lt=_start_of(data["until"] + datetime.timedelta(days=1))
            )
        if q := (data.get("q") or "").strip().lstrip("…").strip():
            events = events.filter(Q(credential_name__icontains=q) | Q(credential_last4=q[-4:]))
        return events

    def query(self):
        """The filters as given, for links that keep them (paging, export, clear)."""
        return {name: self.data[name] for name in FILTERS if self.data.get(name)}


def _start_of(day):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _anchor(events, value):
    """(created_at, id) of the event named by a cursor, or None for a bad or foreign one."""
    try:
        pk = int(value)
    except (TypeError, ValueError):
        return None
    created_at = events.filter(pk=pk).values_list("created_at", flat=True).first()
    return None if created_at is None else (created_at, pk)


def _older(anchor):
    created_at, pk = anchor
    return Q(created_at__lt=created_at) | Q(created_at=created_at, pk__lt=pk)


def _newer(anchor):
    created_at, pk = anchor
    return Q(created_at__gt=created_at) | Q(created_at=created_at, pk__gt=pk)


def keyset_page(events, *, after=None, before=None, size=EVENTS_PER_PAGE):
    """One page of `events`, newest first: the rows older than `after` (an event id), or the
    rows newer than `before`; and whether older and newer rows exist (for the pager)."""
    if anchor := _anchor(events, after):
        rows = list(events.filter(_older(anchor)).order_by("-created_at", "-id")[:size])
    elif anchor := _anchor(events, before):
        rows = list(events.filter(_newer(anchor)).order_by("created_at", "id")[:size])[::-1]
    else:
        rows = list(events.order_by("-created_at", "-id")[:size])
    older = bool(rows) and events.filter(_older((rows[-1].created_at, rows[-1].pk))).exists()
    newer = bool(rows) and events.filter(_newer((rows[0].created_at, rows[0].pk))).exists()
    return rows, older, newer


def spreadsheet_safe(value):
    """A cell a spreadsheet shows as text: a leading formula character gets a quote before it."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class _Echo:
    def write(self, value):
        return value


CSV_HEADER = ["When (UTC)", "Who", "Action", "Detail", "Kind", "Name", "ID", "Last 4", "IP"]


def csv_lines(events):
    """The CSV text of `events`, a line at a time (streamed: an export may be long)."""
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_HEADER)
    for event in events.select_related("actor").order_by("-created_at", "-id").iterator(2000):
        cells = [
            event.created_at.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S"),
            event.actor.email if event.actor else "system",
            event.get_action_display(),
            event.detail,
            event.credential_kind,
            event.credential_name,
            event.credential_id,
            event.credential_last4,
            event.ip,
        ]
        yield writer.writerow([spreadsheet_safe(cell) for cell in cells])
