"""Where counts are kept: minute rows roll up to hours and days (recomputed, never added twice),
and retention forgets what is past it (on PostgreSQL by dropping whole day partitions)."""

import datetime as dt

import pytest
from django.db import connection

from tokens.models import UsageDay, UsageHour, UsageMinute
from tokens.usage import storage

pytestmark = pytest.mark.django_db

UTC = dt.UTC
NOW = dt.datetime(2026, 12, 5, 12, 30, tzinfo=UTC)


def _count(at, n, *, credential_id=1, operation="GET /api/v1/me", status=200):
    """What a flush writes for `n` requests at `at` (a counter key, then the count)."""
    minute = int(at.timestamp()) // 60 * 60
    return {
        (minute, "personal", credential_id, 7, operation, status, "read.me", "10.0.0.1", False): n
    }


def _write(at, n, **kwargs):
    storage.write(_count(at, n, **kwargs))


@pytest.fixture
def recent(settings):
    """Counts at NOW's hour and the hour before: within every retention."""
    settings.USAGE_MINUTES_RETENTION_HOURS = 10_000  # NOW is fixed; keep its rows writable


def test_minutes_roll_up_into_their_hour(recent):
    _write(NOW - dt.timedelta(hours=2, minutes=10), 3)
    _write(NOW - dt.timedelta(hours=2, minutes=5), 4)
    storage.roll_up(now=NOW)
    hour = UsageHour.objects.get()
    assert (hour.bucket, hour.count) == (dt.datetime(2026, 12, 5, 10, tzinfo=UTC), 7)


def test_a_roll_up_run_twice_counts_once(recent):
    _write(NOW - dt.timedelta(hours=2), 5)
    storage.roll_up(now=NOW)
    storage.roll_up(now=NOW)
    storage.roll_up(now=NOW + dt.timedelta(minutes=5))
    assert UsageHour.objects.get().count == 5


def test_late_counts_of_the_hour_before_the_watermark_are_taken_in(recent):
    _write(NOW - dt.timedelta(hours=1, minutes=20), 1)
    storage.roll_up(now=NOW)
    _write(NOW - dt.timedelta(hours=1, minutes=20), 2)  # a worker that flushed late
    storage.roll_up(now=NOW + dt.timedelta(minutes=5))
    assert UsageHour.objects.get().count == 3


def test_an_hour_still_receiving_counts_is_not_rolled_up(recent):
    _write(NOW - dt.timedelta(seconds=30), 1)
    storage.roll_up(now=NOW)
    assert not UsageHour.objects.filter(bucket=dt.datetime(2026, 12, 5, 12, tzinfo=UTC)).exists()
    assert storage.watermark("hour") == dt.datetime(2026, 12, 5, 12, tzinfo=UTC)


def test_hours_roll_up_into_their_day(recent):
    _write(NOW - dt.timedelta(days=1, hours=3), 2)
    _write(NOW - dt.timedelta(days=1, hours=1), 3)
    storage.roll_up(now=NOW)
    day = UsageDay.objects.get()
    assert (day.bucket, day.count) == (dt.datetime(2026, 12, 4, tzinfo=UTC), 5)


def test_retention_forgets_minutes_past_48_hours_and_keeps_the_rest(settings):
    settings.USAGE_MINUTES_RETENTION_HOURS = 48
    now = dt.datetime.now(UTC)
    old = now - dt.timedelta(days=3)
    storage.ensure_partitions({old.date()})
    UsageMinute.objects.create(
        bucket=old.replace(second=0, microsecond=0),
        credential_kind="personal",
        credential_id=1,
        organization_id=7,
        operation="GET /api/v1/me",
        status=200,
        scope="",
        client_ip="",
        count=1,
    )
    _write(now - dt.timedelta(hours=1), 2)
    storage.prune(now=now)
    assert list(UsageMinute.objects.values_list("count", flat=True)) == [2]
    if connection.vendor == "postgresql":
        assert old.date() not in storage.partition_days()


def test_retention_forgets_hours_past_90_days_and_days_past_400(settings):
    now = dt.datetime.now(UTC).replace(microsecond=0)
    fields = {
        "credential_kind": "personal",
        "credential_id": 1,
        "organization_id": 7,
        "operation": "GET /api/v1/me",
        "status": 200,
        "scope": "",
        "client_ip": "",
        "count": 1,
    }
    UsageHour.objects.create(bucket=now - dt.timedelta(days=91), **fields)
    UsageHour.objects.create(bucket=now - dt.timedelta(days=89), **fields)
    UsageDay.objects.create(bucket=now - dt.timedelta(days=401), **fields)
    UsageDay.objects.create(bucket=now - dt.timedelta(days=399), **fields)
    storage.prune(now=now)
    assert UsageHour.objects.get().bucket == now - dt.timedelta(days=89)
    assert UsageDay.objects.get().bucket == now - dt.timedelta(days=399)


@pytest.mark.postgres
def test_the_scheduler_makes_partitions_for_today_and_the_next_two_days():
    now = dt.datetime.now(UTC)
    storage.maintain(now=now)
    days = storage.partition_days()
    assert {now.date() + dt.timedelta(days=n) for n in range(3)} <= set(days)


@pytest.mark.postgres
def test_the_minute_table_is_partitioned_by_day_on_postgresql():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT partstrat FROM pg_partitioned_table WHERE partrelid = 'tokens_usageminute'::regclass"
        )
        assert cursor.fetchone() == ("r",)
