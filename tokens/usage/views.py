"""Usage in the portal: the panel of a credential's page, the sparklines of list rows, and the
admins' organization usage page."""

import datetime as dt

from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.decorators import admin_required

from .. import kinds
from . import report

UNUSED_AFTER = dt.timedelta(days=30)


# How long a previous secret must have been idle before its page calls it safe to retire.
IDLE_CHOICES = {
    "15m": dt.timedelta(minutes=15),
    "1h": dt.timedelta(hours=1),
    "24h": dt.timedelta(days=1),
}
DEFAULT_IDLE = "1h"


def usage_context(request, kind, credential, granted=None, *, ids=None, overlap_until=None):
    """What a credential page's usage panel shows, for `?period=` (the default when it is not
    one); with `overlap_until` (a rotation's previous secret still works), what that secret
    did lately and whether it is safe to retire after `?idle=`."""
    period = request.GET.get("period")
    if period not in report.PERIODS:
        period = report.DEFAULT_PERIOD
    now = timezone.now()
    where = report.credential_filter(kind, ids or credential.pk)
    usage = report.report(where, period=period, now=now, granted=granted)
    for item in usage["scopes"]:
        last = item["last_used_at"]
        item["state"] = "never" if last is None else ("unused" if last < now - UNUSED_AFTER else "")
    context = {"usage": usage, "usage_periods": list(report.PERIODS)}
    if overlap_until is not None and overlap_until > now:
        idle = request.GET.get("idle")
        if idle not in IDLE_CHOICES:
            idle = DEFAULT_IDLE
        previous = report.previous_secret(where, now=now)
        last = previous["last_used_at"]
        # Counts reach the database within a flush: a use in the last flush may not show yet.
        previous["safe"] = last is None or last < now - IDLE_CHOICES[idle]
        previous["until"] = overlap_until
        previous["idle"] = idle
        context.update(previous_secret=previous, idle_choices=list(IDLE_CHOICES))
    return context


def attach_sparklines(page, kind):
    """Give each credential of a list page its last 24 hours (`.sparkline`): one query per table."""
    credentials = list(page.object_list)  # evaluated once; the template iterates the same rows
    lines = report.sparklines(kind, [c.pk for c in credentials], now=timezone.now())
    for credential in credentials:
        credential.sparkline = lines.get(credential.pk, [])
    page.object_list = credentials
    return page


def _names(organization):
    """(kind, id) → (label, name) for every credential usage may name, a query per kind."""
    names = {}
    for kind in kinds.where("counted"):
        rows = kind.credentials().filter(organization=organization).values_list("pk", "name")
        for pk, name in rows:
            names[(kind.name, pk)] = (kind.label, name or f"token {pk}")
    return names


def _idle(organization, now):
    """Live credentials with no request for 30 and for 90 days (usage, or their last-used time)."""
    seen = report.last_used(organization.pk)
    live = [
        (
            kind.name,
            kind.label,
            c.pk,
            c.name,
            c.last_used_at,
            getattr(c, "created", None) or c.created_at,
        )
        for kind in kinds.where("counted")
        for c in kind.counted(now).filter(organization=organization)
    ]
    rows = []
    for kind, label, pk, name, last_used_at, created in live:
        last = max(filter(None, (seen.get((kind, pk)), last_used_at)), default=None)
        since = last or created
        if since < now - dt.timedelta(days=30):
            rows.append(
                {
                    "label": label,
                    "name": name,
                    "last_used": last,
                    "over_90": since < now - dt.timedelta(days=90),
                }
            )
    return sorted(rows, key=lambda row: (row["last_used"] is not None, row["last_used"] or now))


@admin_required
@require_GET
def organization_usage(request):
    """Admin › Usage: the organization's requests, its busiest credentials and error rates, and
    the credentials nobody used for 30 or 90 days."""
    context = usage_context_for_organization(request)
    return render(request, "tokens/admin/usage.html", context)


def usage_context_for_organization(request):
    period = request.GET.get("period")
    if period not in report.PERIODS:
        period = report.DEFAULT_PERIOD
    now = timezone.now()
    organization = request.organization
    usage = report.report(report.organization_filter(organization.pk), period=period, now=now)
    names = _names(organization)
    busiest = []
    for kind, credential_id, requests, errors in report.busiest(
        organization.pk, since=usage["start"]
    ):
        label, name = names.get(
            (kind, credential_id), (kind.replace("_", " "), f"#{credential_id}")
        )
        busiest.append({"label": label, "name": name, "requests": requests, "errors": errors})
    return {
        "usage": usage,
        "usage_periods": list(report.PERIODS),
        "busiest": busiest,
        "idle": _idle(organization, now),
    }
