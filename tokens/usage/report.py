"""What usage says: totals, a time series, operations, addresses and scopes of one credential
(or a whole organization) over a period, read from whichever table holds each stretch: days
before the day roll-up's watermark, hours before the hour roll-up's, minutes after. A constant
number of queries, whatever the period."""

import datetime as dt

from django.db.models import Max, Min, Q, Sum
from django.db.models.functions import TruncDay, TruncHour

from accounts.errors import Refused

from .. import scopes as catalog
from ..models import UsageDay, UsageHour, UsageMinute
from .storage import watermark

UTC = dt.UTC
HOUR, DAY = dt.timedelta(hours=1), dt.timedelta(days=1)
# period -> (buckets, bucket size)
PERIODS = {"24h": (24, HOUR), "7d": (7 * 24, HOUR), "30d": (30, DAY), "90d": (90, DAY)}
DEFAULT_PERIOD = "24h"
TOP = 10


def parse_period(raw):
    """A `period` query value, or the 400 that says which ones there are."""
    if raw is None or raw == "":
        return DEFAULT_PERIOD
    if raw not in PERIODS:
        raise Refused(
            "invalid_period",
            f"The period must be one of {', '.join(PERIODS)}; {str(raw)[:20]!r} is not one.",
            "period",
        )
    return raw


def floor(moment, step):
    moment = moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return moment.replace(hour=0) if step == DAY else moment


def _sources(start, step):
    """(model, from, until) for each table that holds a stretch of [start, now]."""
    hours_done = watermark("hour")
    parts = []
    hours_from = start
    if step == DAY:
        days_done = watermark("day")
        hours_from = max(start, days_done) if days_done is not None else start
        parts.append((UsageDay, start, hours_from))
    minutes_from = max(hours_from, hours_done) if hours_done is not None else hours_from
    parts.append((UsageHour, hours_from, minutes_from))
    parts.append((UsageMinute, minutes_from, None))
    return [(model, low, high) for model, low, high in parts if high is None or low < high]


def _rows(model, low, high, where):
    rows = model.objects.filter(where, bucket__gte=low)
    return rows.filter(bucket__lt=high) if high is not None else rows


def credential_filter(kind, ids):
    """One credential's rows: its id, or its ids (a token's previous secrets are rows of their own)."""
    if isinstance(ids, int):
        return Q(credential_kind=kind, credential_id=ids)
    return Q(credential_kind=kind, credential_id__in=list(ids))


def organization_filter(organization_id):
    return Q(organization_id=organization_id)


class _Tally:
    """What `report` adds up over the usage tables a period spans."""

    def __init__(self, start, step, buckets):
        self.series = {start + step * i: [0, 0] for i in range(buckets)}
        self.statuses, self.operations, self.addresses = {}, {}, {}
        self.previous = [0, None]  # requests with the previous secret, and its last use

    def add(self, rows, trunc):
        self._series(rows, trunc)
        self._operations(rows)
        self._addresses(rows)
        found = rows.filter(previous_secret=True).aggregate(n=Sum("count"), last=Max("bucket"))
        self.previous[0] += found["n"] or 0
        last = found["last"]
        if last is not None and (self.previous[1] is None or last > self.previous[1]):
            self.previous[1] = last

    def _series(self, rows, trunc):
        for bucket, requests, failed in (
            rows.annotate(at=trunc("bucket", tzinfo=UTC))
            .values("at")
            .annotate(n=Sum("count"), e=Sum("count", filter=Q(status__gte=400)))
            .values_list("at", "n", "e")
            .order_by()
        ):
            slot = self.series.setdefault(bucket.astimezone(UTC), [0, 0])
            slot[0] += requests
            slot[1] += failed or 0

    def _operations(self, rows):
        for operation, status, n in (
            rows.values("operation", "status")
            .annotate(n=Sum("count"))
            .values_list("operation", "status", "n")
            .order_by()
        ):
            self.statuses[status] = self.statuses.get(status, 0) + n
            by_status = self.operations.setdefault(operation, {})
            by_status[status] = by_status.get(status, 0) + n

    def _addresses(self, rows):
        for address, n, first, last in (
            rows.values("client_ip")
            .annotate(n=Sum("count"), first=Min("bucket"), last=Max("bucket"))
            .values_list("client_ip", "n", "first", "last")
            .order_by()
        ):
            seen = self.addresses.get(address)
            if seen is None:
                self.addresses[address] = [n, first, last]
            else:
                seen[0] += n
                seen[1], seen[2] = min(seen[1], first), max(seen[2], last)


def _counts(by_status):
    return [{"status": s, "requests": n} for s, n in sorted(by_status.items())]


def report(where, *, period, now, granted=None):
    """The usage answer (snake_case; the API camelizes it). `granted`: a credential's scope
    string, to list each granted scope with its last use; None lists the scopes seen."""
    buckets, step = PERIODS[period]
    start = floor(now, step) - step * (buckets - 1)
    trunc = TruncDay if step == DAY else TruncHour
    tally = _Tally(start, step, buckets)
    for model, low, high in _sources(start, step):
        tally.add(_rows(model, low, high, where), trunc)
    operations = sorted(
        tally.operations.items(), key=lambda item: (-sum(item[1].values()), item[0])
    )
    addresses = sorted(tally.addresses.items(), key=lambda item: (-item[1][0], item[0]))
    return {
        "period": period,
        "start": start,
        "end": now,
        "bucket": "day" if step == DAY else "hour",
        "totals": {
            "requests": sum(tally.statuses.values()),
            "errors": sum(n for status, n in tally.statuses.items() if status >= 400),
            "previous_secret_requests": tally.previous[0],
            "previous_secret_last_used_at": tally.previous[1],
            "statuses": _counts(tally.statuses),
        },
        "series": [
            {"start": at, "requests": n, "errors": e}
            for at, (n, e) in sorted(tally.series.items())
            if at >= start
        ],
        "operations": [
            {
                "operation": operation,
                "requests": sum(by_status.values()),
                "errors": sum(n for s, n in by_status.items() if s >= 400),
                "statuses": _counts(by_status),
            }
            for operation, by_status in operations[:TOP]
        ],
        "addresses": [
            {"address": address or None, "requests": n, "first_seen": first, "last_seen": last}
            for address, (n, first, last) in addresses[:TOP]
        ],
        "scopes": scope_last_use(where, granted=granted),
    }


def scope_last_use(where, *, granted=None):
    """Each scope with the last time it authorized a request (over everything kept): a
    credential's granted scopes (a role bundle counts every fine scope it stands for), or with
    `granted` None every scope seen."""
    last = {}
    for model in (UsageMinute, UsageHour, UsageDay):
        for scope, at in (
            model.objects.filter(where)
            .exclude(scope="")
            .values("scope")
            .annotate(last=Max("bucket"))
            .values_list("scope", "last")
            .order_by()
        ):
            for name in scope.split():
                if name not in last or at > last[name]:
                    last[name] = at
    if granted is None:
        names = catalog.ordered(last)
        return [{"scope": name, "last_used_at": last[name]} for name in names]
    answer = []
    for name in catalog.ordered(granted.split()):
        uses = [last[fine] for fine in catalog.expand(name) if fine in last]
        answer.append({"scope": name, "last_used_at": max(uses) if uses else None})
    return answer


def busiest(organization_id, *, since, limit=TOP):
    """The organization's credentials with the most requests since `since`: (kind, id, requests,
    errors), busiest first."""
    where = organization_filter(organization_id)
    totals = {}
    for model, low, high in _sources(floor(since, HOUR), HOUR):
        for kind, credential_id, n, e in (
            _rows(model, low, high, where)
            .values("credential_kind", "credential_id")
            .annotate(n=Sum("count"), e=Sum("count", filter=Q(status__gte=400)))
            .values_list("credential_kind", "credential_id", "n", "e")
            .order_by()
        ):
            slot = totals.setdefault((kind, credential_id), [0, 0])
            slot[0] += n
            slot[1] += e or 0
    ranked = sorted(totals.items(), key=lambda item: (-item[1][0], item[0]))
    return [(kind, cid, n, e) for (kind, cid), (n, e) in ranked[:limit]]


def last_used(organization_id):
    """{(kind, id): last bucket with any request} over everything kept, for the organization."""
    last = {}
    for model in (UsageMinute, UsageHour, UsageDay):
        for kind, credential_id, at in (
            model.objects.filter(organization_id=organization_id)
            .values("credential_kind", "credential_id")
            .annotate(last=Max("bucket"))
            .values_list("credential_kind", "credential_id", "last")
            .order_by()
        ):
            key = (kind, credential_id)
            if key not in last or at > last[key]:
                last[key] = at
    return last


def sparklines(kind, ids, *, now):
    """{id: [requests per hour of the last 24 h]} for a list page: one query per table."""
    start = floor(now, HOUR) - HOUR * 23
    lines = {credential_id: [0] * 24 for credential_id in ids}
    if not ids:
        return lines
    where = Q(credential_kind=kind, credential_id__in=list(ids))
    for model, low, high in _sources(start, HOUR):
        for credential_id, at, n in (
            _rows(model, low, high, where)
            .annotate(at=TruncHour("bucket", tzinfo=UTC))
            .values("credential_id", "at")
            .annotate(n=Sum("count"))
            .values_list("credential_id", "at", "n")
            .order_by()
        ):
            index = int((at.astimezone(UTC) - start) / HOUR)
            if 0 <= index < 24:
                lines[credential_id][index] += n
    return lines


def previous_secret(where, *, now):
    """The previous secret of a rotation: requests in the last hour and 24 h, its last use and
    the addresses still sending it (busiest first), read from the minutes."""
    rows = UsageMinute.objects.filter(
        where, previous_secret=True, bucket__gte=floor(now, HOUR) - HOUR * 24
    )
    hour_ago = now - HOUR
    found = rows.aggregate(
        day=Sum("count"), hour=Sum("count", filter=Q(bucket__gte=hour_ago)), last=Max("bucket")
    )
    addresses = (
        rows.filter(bucket__gte=now - DAY)
        .values("client_ip")
        .annotate(n=Sum("count"), last=Max("bucket"))
        .values_list("client_ip", "n", "last")
        .order_by("-n")[:TOP]
    )
    last = found["last"]
    if last is None:  # older than the minutes: ask the hours and days
        last = max(
            (
                model.objects.filter(where, previous_secret=True).aggregate(m=Max("bucket"))["m"]
                for model in (UsageHour, UsageDay)
            ),
            key=lambda moment: moment or dt.datetime.min.replace(tzinfo=UTC),
        )
    return {
        "last_hour": found["hour"] or 0,
        "last_day": found["day"] or 0,
        "last_used_at": last,
        "addresses": [
            {"address": address or None, "requests": n, "last_seen": seen}
            for address, n, seen in addresses
        ],
    }


def scopes_used_since(where, since):
    """The fine scopes that authorized a request of these rows since `since`."""
    used = set()
    for model in (UsageMinute, UsageHour, UsageDay):
        for scope in (
            model.objects.filter(where, bucket__gte=since)
            .exclude(scope="")
            .values_list("scope", flat=True)
            .distinct()
        ):
            used.update(scope.split())
    return used
