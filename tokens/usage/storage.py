"""Where counts are kept: the flush's batched upsert, the minute table's day partitions
(PostgreSQL), the roll-ups to hours and days, and retention. Every job here is idempotent:
a roll-up recomputes whole buckets from the finer table (it sets, never adds), so two
schedulers, or one run twice, write the same rows."""

import datetime as dt

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connections, transaction
from django.db.models import Sum
from django.db.models.functions import TruncDay, TruncHour

from ..models import UsageDay, UsageHour, UsageMinute, UsageRollup
from ..models.usage import KEY

UTC = dt.UTC
# The order of a counter key (tokens.usage.counter), then the count.
COLUMNS = (
    "bucket",
    "credential_kind",
    "credential_id",
    "organization_id",
    "operation",
    "status",
    "scope",
    "client_ip",
    "previous_secret",
    "count",
)
PARTITION_PREFIX = "tokens_usageminute_p"

# Days whose minute partition this process knows exists: asked once per day, not per flush.
_partitions_made = set()


def _partitioned(connection):
    return connection.vendor == "postgresql"


def _upsert_sql(table, rows, *, add):
    placeholders = "(" + ", ".join(["%s"] * len(COLUMNS)) + ")"
    new = f"{table}.count + excluded.count" if add else "excluded.count"
    return (
        f"INSERT INTO {table} ({', '.join(COLUMNS)}) VALUES "
        + ", ".join([placeholders] * rows)
        + f" ON CONFLICT ({', '.join(KEY)}) DO UPDATE SET count = {new}"
    )


def write(counts, *, using="default"):
    """Add `counts` ({counter key: n}) to the minute table: one transaction, a few statements."""
    connection = connections[using]
    oldest = dt.datetime.now(UTC) - dt.timedelta(hours=settings.USAGE_MINUTES_RETENTION_HOURS)
    rows = []
    for key, n in counts.items():
        bucket = dt.datetime.fromtimestamp(key[0], UTC)
        if bucket < oldest:
            continue  # its partition may be gone already: older than anything kept
        rows.append((bucket, *key[1:], n))
    if not rows:
        return
    days = {row[0].date() for row in rows}
    ensure_partitions(days, using=using)
    try:
        _insert(connection, rows, using)
    except IntegrityError:
        if not _partitioned(connection):
            raise
        # A partition this process thought it had was dropped (or its creation rolled back):
        # make it again and write once more.
        name = connection.settings_dict["NAME"]
        _partitions_made.difference_update((name, day) for day in days)
        ensure_partitions(days, using=using)
        _insert(connection, rows, using)


def _insert(connection, rows, using):
    adapt = connection.ops.adapt_datetimefield_value
    max_params = connection.features.max_query_params or 30_000
    per_statement = max(1, min(1000, max_params // len(COLUMNS)))
    with transaction.atomic(using=using), connection.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            params = []
            for row in chunk:
                params.append(adapt(row[0]))
                params.extend(row[1:])
            cursor.execute(_upsert_sql(UsageMinute._meta.db_table, len(chunk), add=True), params)


def ensure_partitions(days, *, using="default"):
    """Make the minute table's partitions for `days` (PostgreSQL; a no-op elsewhere). Runs in
    its own short transactions, never inside a flush's: creating a partition locks the parent
    table, and two flushes each holding rows while waiting for that lock would deadlock."""
    connection = connections[using]
    if not _partitioned(connection):
        return
    name = connection.settings_dict["NAME"]
    # Inside someone's transaction a partition made here is gone if it rolls back: not remembered.
    remember = not connection.in_atomic_block
    for day in sorted(days):
        if (name, day) in _partitions_made:
            continue
        start = dt.datetime.combine(day, dt.time(), UTC)
        end = start + dt.timedelta(days=1)
        try:
            with transaction.atomic(using=using), connection.cursor() as cursor:
                cursor.execute(
                    f"CREATE TABLE IF NOT EXISTS {PARTITION_PREFIX}{day:%Y%m%d} "
                    f"PARTITION OF {UsageMinute._meta.db_table} FOR VALUES FROM (%s) TO (%s)",
                    [start, end],
                )
        except DatabaseError:
            # Another process made it at the same moment: the catalog's unique index refused ours.
            if not _partition_exists(connection, day):
                raise
        if remember:
            _partitions_made.add((name, day))


def _partition_exists(connection, day):
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [f"{PARTITION_PREFIX}{day:%Y%m%d}"])
        return cursor.fetchone()[0] is not None


def partition_days(*, using="default"):
    """The days the minute table has a partition for (PostgreSQL), oldest first."""
    connection = connections[using]
    if not _partitioned(connection):
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = %s::regclass",
            [UsageMinute._meta.db_table],
        )
        names = [row[0] for row in cursor.fetchall()]
    return sorted(
        dt.datetime.strptime(name.removeprefix(PARTITION_PREFIX), "%Y%m%d").date()
        for name in names
        if name.startswith(PARTITION_PREFIX)
    )


# --- roll-ups ----------------------------------------------------------------------------


def _lag():
    """How long after a minute ends its counts may still arrive: two flushes and a margin."""
    return dt.timedelta(seconds=2 * settings.USAGE_FLUSH_SECONDS + 60)


def watermark(level):
    """Where `level`'s roll-up has finished (None before its first run)."""
    row = UsageRollup.objects.filter(level=level).first()
    return row.done_until if row is not None else None


def _roll(source, target, trunc, unit, level, now):
    """Recompute `target`'s buckets from `source`, from one bucket before the watermark up to
    the last bucket that can no longer change, and move the watermark there."""
    until = _floor(now - _lag(), unit)
    done = watermark(level)
    if done is None:
        first = source.objects.order_by("bucket").values_list("bucket", flat=True).first()
        if first is None:
            UsageRollup.objects.update_or_create(level=level, defaults={"done_until": until})
            return 0
        start = _floor(first, unit)
    else:
        start = min(done, until) - unit  # late counts of the bucket before are taken in too
    if start >= until:
        if done is None:  # nothing complete yet, and nothing before the first count
            UsageRollup.objects.update_or_create(level=level, defaults={"done_until": start})
        return 0
    rows = (
        source.objects.filter(bucket__gte=start, bucket__lt=until)
        .annotate(rolled=trunc("bucket"))
        .values(*COLUMNS[1:-1], "rolled")  # the key's columns but its bucket and count
        .annotate(total=Sum("count"))
        .order_by()
    )
    select, params = rows.query.sql_with_params()
    columns = (*COLUMNS[1:-1], "bucket", "count")  # the SELECT's order: fields, then annotations
    table = target._meta.db_table
    connection = connections["default"]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) {select} "
            f"ON CONFLICT ({', '.join(KEY)}) DO UPDATE SET count = excluded.count",
            params,
        )
        written = cursor.rowcount
        UsageRollup.objects.update_or_create(level=level, defaults={"done_until": until})
    return written


def _floor(moment, unit):
    moment = moment.astimezone(UTC)
    if unit == dt.timedelta(hours=1):
        return moment.replace(minute=0, second=0, microsecond=0)
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def roll_up(*, now):
    hours = _roll(UsageMinute, UsageHour, TruncHour, dt.timedelta(hours=1), "hour", now)
    days = _roll(UsageHour, UsageDay, TruncDay, dt.timedelta(days=1), "day", now)
    return hours, days


# --- retention ---------------------------------------------------------------------------


def prune(*, now):
    """Forget counts past their retention. On PostgreSQL a minute partition goes whole once
    its day has entirely passed the retention (a DROP, not a DELETE of millions of rows)."""
    connection = connections["default"]
    minutes_before = now - dt.timedelta(hours=settings.USAGE_MINUTES_RETENTION_HOURS)
    dropped = 0
    if _partitioned(connection):
        name = connection.settings_dict["NAME"]
        for day in partition_days():
            if dt.datetime.combine(day, dt.time(), UTC) + dt.timedelta(days=1) <= minutes_before:
                with connection.cursor() as cursor:
                    cursor.execute(f"DROP TABLE IF EXISTS {PARTITION_PREFIX}{day:%Y%m%d}")
                _partitions_made.discard((name, day))
                dropped += 1
    else:
        dropped, _ = UsageMinute.objects.filter(bucket__lt=minutes_before).delete()
    hours, _ = UsageHour.objects.filter(
        bucket__lt=now - dt.timedelta(days=settings.USAGE_HOURS_RETENTION_DAYS)
    ).delete()
    days, _ = UsageDay.objects.filter(
        bucket__lt=now - dt.timedelta(days=settings.USAGE_DAYS_RETENTION_DAYS)
    ).delete()
    return dropped, hours, days


def maintain(*, now):
    """Scheduler job: partitions for today and the next two days, roll-ups, retention."""
    today = now.astimezone(UTC).date()
    ensure_partitions({today + dt.timedelta(days=n) for n in range(3)})
    hours, days = roll_up(now=now)
    minutes, old_hours, old_days = prune(now=now)
    unit = "partition(s)" if _partitioned(connections["default"]) else "row(s)"
    return (
        f"{hours} hour and {days} day bucket(s) rolled up; "
        f"pruned {minutes} minute {unit}, {old_hours} hour and {old_days} day row(s)"
    )
