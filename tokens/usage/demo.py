"""Realistic usage for the demo (`seed_demo`), so its charts are not empty: 30 days of hourly
counts (busier in working hours, a few errors, two or three addresses per credential) and the
last two hours by the minute, written through the same tables the flush and roll-ups write."""

import datetime as dt
import random

from django.utils import timezone

from ..models import AccessToken, ApiKey, Application, Kind, UsageHour, UsageRollup
from . import storage

DAYS = 30

# A credential's traffic: (operation, the scope that authorizes it, share).
PROFILES = {
    "CI deploy": [
        ("GET /api/v1/conversations", "read.chats", 5),
        ("GET /api/v1/conversations/{id}", "read.chat_details", 3),
        ("POST /api/v1/conversations/{conversation_pk}/messages", "create.messages", 2),
    ],
    "Billing sync": [
        ("GET /api/v1/me", "read.me", 1),
        ("GET /api/v1/organizations", "read.organizations", 4),
    ],
    "Order service": [
        ("GET /api/v1/conversations", "read.chats", 6),
        ("GET /api/v1/conversations/{id}", "read.chat_details", 4),
    ],
    "Reporting dashboard": [
        ("GET /api/v1/me", "read.me", 2),
        ("GET /api/v1/conversations", "read.chats", 3),
    ],
}


def _credentials(organization):
    """(kind, id, name, previous secret?, addresses, hourly peak) of the demo's busy credentials."""
    found = []
    tokens = AccessToken.objects.filter(organization=organization, kind=Kind.PERSONAL)
    for token in tokens.filter(name__in=PROFILES).order_by("created"):
        rotated = token.revoked_at is not None  # Billing sync's old secret, still in its overlap
        found.append(
            ("personal", token.pk, token.name, rotated, ["203.0.113.20", "203.0.113.21"], 40)
        )
    for key in ApiKey.objects.live().filter(organization=organization, name__in=PROFILES):
        found.append(("api_key", key.pk, key.name, False, ["198.51.100.7", "198.51.100.8"], 90))
    for app in Application.objects.filter(organization=organization, name__in=PROFILES):
        found.append(("oauth_client", app.pk, app.name, False, ["192.0.2.44"], 25))
    return found


def _hour_of(rng, when, peak):
    """Requests in the hour starting at `when`: working hours busier, weekends quieter."""
    working = 8 <= when.hour < 19
    weekday = when.weekday() < 5
    base = peak if working and weekday else peak // 6
    return max(0, int(rng.gauss(base, base / 4 + 1)))


def _cells(rng, total, operations, addresses, previous):
    """One hour's `total` requests of a credential, counted by what the counter keys on."""
    weights = [share for *_rest, share in operations]
    cells = {}
    for _ in range(total):
        operation, scope, _share = rng.choices(operations, weights)[0]
        status = rng.choices((200, 401, 403, 404, 429), (95, 1, 1, 2, 1))[0]
        address = rng.choice(addresses)
        key = (operation, status, scope if status in (200, 404) else "", address, previous)
        cells[key] = cells.get(key, 0) + 1
    return cells


def seed(organization, *, now=None):
    """Write the demo's usage once (a second run finds it there and does nothing)."""
    if UsageHour.objects.filter(organization_id=organization.pk).exists():
        return 0
    now = now or timezone.now()
    rng = random.Random(organization.pk)
    this_hour = now.replace(minute=0, second=0, microsecond=0)
    rolled_until = this_hour - dt.timedelta(hours=1)  # hours before it kept by the hour
    rows, minutes = [], {}
    models = {"personal": AccessToken, "api_key": ApiKey, "oauth_client": Application}
    for kind, pk, name, rotated, addresses, peak in _credentials(organization):
        # Its last use agrees with its traffic (written as record_use would have).
        fields = {"last_used_at": now - dt.timedelta(minutes=rng.randrange(1, 20))}
        if kind != "oauth_client":
            fields["last_used_ip"] = addresses[0]
        models[kind].objects.filter(pk=pk).update(**fields)
        operations = PROFILES[name]
        start = rolled_until - dt.timedelta(days=DAYS)
        hour = start
        while hour < now:
            # The rotated token's old secret fades out over its overlap (previous secret).
            previous = rotated and hour < this_hour - dt.timedelta(hours=6)
            cells = _cells(rng, _hour_of(rng, hour, peak), operations, addresses, previous)
            for (operation, status, scope, address, previous), n in cells.items():
                if hour < rolled_until:
                    rows.append(
                        UsageHour(
                            bucket=hour,
                            credential_kind=kind,
                            credential_id=pk,
                            organization_id=organization.pk,
                            operation=operation,
                            status=status,
                            scope=scope,
                            client_ip=address,
                            previous_secret=previous,
                            count=n,
                        )
                    )
                else:  # the last hours by the minute, as the flush writes them
                    minute = hour + dt.timedelta(minutes=rng.randrange(60))
                    if minute > now:
                        continue
                    counter_key = (
                        int(minute.timestamp()) // 60 * 60,
                        kind,
                        pk,
                        organization.pk,
                        operation,
                        status,
                        scope,
                        address,
                        previous,
                    )
                    minutes[counter_key] = minutes.get(counter_key, 0) + n
            hour += dt.timedelta(hours=1)
    UsageHour.objects.bulk_create(rows, batch_size=500)
    if minutes:
        storage.write(minutes)
    if not UsageRollup.objects.filter(level="hour").exists():
        UsageRollup.objects.create(level="hour", done_until=rolled_until)
    storage.roll_up(now=now)  # the days, from the hours
    return len(rows) + len(minutes)
