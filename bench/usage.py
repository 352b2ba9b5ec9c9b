"""How much room usage counts take: `python -m bench.usage` (DJANGO_SETTINGS_MODULE=bench.settings).

Simulates MINUTES minutes of traffic at RATE requests/s spread over CREDENTIALS active
credentials, through the real counter keys and the real flush (`tokens.usage.storage.write`,
one batch per 10 s), then the real roll-up; reports rows and bytes (table + indexes) per
minute table day, hour table day and day table day, extrapolated from what was written.

The traffic model is stated with the numbers: which credential sends each request (uniform,
the worst case for row counts, or Zipf, closer to real fleets), 8 operations with a skewed
mix, 2 % errors, one client address per credential (10 % have a second).
"""

import argparse
import datetime as dt
import os
import random
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from bench.auth import ensure_database  # noqa: E402
from tokens.models import UsageDay, UsageHour, UsageMinute, UsageRollup  # noqa: E402
from tokens.usage import storage  # noqa: E402

OPERATIONS = [
    ("GET /api/v1/conversations", "read.chats", 30),
    ("GET /api/v1/conversations/{id}", "read.chat_details", 20),
    ("GET /api/v1/conversations/{conversation_pk}/messages", "read.messages", 20),
    ("POST /api/v1/conversations/{conversation_pk}/messages", "create.messages", 15),
    ("GET /api/v1/contacts", "read.contacts", 6),
    ("GET /api/v1/me", "read.me", 5),
    ("PATCH /api/v1/conversations/{id}", "update.chats", 3),
    ("GET /api/v1/webhooks", "read.webhooks", 1),
]


def traffic(args, rng):
    """Counter keys for one flush window, as the processes would have counted them."""
    ops = [op for op in OPERATIONS for _ in range(op[2])]
    weights = None
    if args.model == "zipf":
        weights = [1 / (rank + 1) for rank in range(args.credentials)]
    return ops, weights


def table_bytes(model):
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and model is UsageMinute:
            cursor.execute(
                "SELECT coalesce(sum(pg_total_relation_size(i.inhrelid)), 0) FROM pg_inherits i "
                "WHERE i.inhparent = 'tokens_usageminute'::regclass"
            )
        else:
            cursor.execute("SELECT pg_total_relation_size(%s)", [model._meta.db_table])
        return int(cursor.fetchone()[0])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--credentials", type=int, default=10_000)
    parser.add_argument("--rate", type=int, default=1_000, help="requests per second overall")
    parser.add_argument("--minutes", type=int, default=10, help="simulated minutes (default 10)")
    parser.add_argument("--model", choices=["uniform", "zipf"], default="uniform")
    args = parser.parse_args()
    ensure_database(connection.settings_dict)
    call_command("migrate", interactive=False, verbosity=0)
    if connection.vendor != "postgresql":
        raise SystemExit("measures PostgreSQL's disk use: set DATABASE_URL=postgres://…")
    for model in (UsageMinute, UsageHour, UsageDay, UsageRollup):
        model.objects.all().delete()
    rng = random.Random(21)
    ops, weights = traffic(args, rng)
    second_address = {c for c in range(args.credentials) if rng.random() < 0.1}
    start = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0) - dt.timedelta(
        hours=2
    )
    started = time.perf_counter()
    flushes = 0
    writing = 0.0
    for window in range(args.minutes * 6):  # a flush every 10 s
        at = start + dt.timedelta(seconds=10 * window)
        minute = int(at.timestamp()) // 60 * 60
        counts = {}
        requests = args.rate * 10
        credentials = rng.choices(range(args.credentials), weights=weights, k=requests)
        for credential in credentials:
            operation, scope, _w = rng.choice(ops)
            status = 200 if rng.random() >= 0.02 else rng.choice((401, 403, 404, 429))
            address = f"10.{credential // 65536 % 256}.{credential // 256 % 256}.{credential % 256}"
            if credential in second_address and rng.random() < 0.5:
                address = "192.0.2." + str(credential % 256)
            key = (
                minute,
                "personal",
                credential + 1,
                1,
                operation,
                status,
                scope if status < 400 or status == 404 else "",
                address,
                False,
            )
            counts[key] = counts.get(key, 0) + 1
        before = time.perf_counter()
        storage.write(counts)
        writing += time.perf_counter() - before
        flushes += 1
    written = time.perf_counter() - started
    minute_rows = UsageMinute.objects.count()
    minute_bytes = table_bytes(UsageMinute)
    # Each flush updates the keys of the minute under way: dead row versions until autovacuum
    # makes their room reusable. Compacted, the same rows take this much:
    with connection.cursor() as cursor:
        cursor.execute("VACUUM FULL tokens_usageminute")
    compact_bytes = table_bytes(UsageMinute)
    storage.roll_up(now=start + dt.timedelta(hours=3, minutes=5))
    hour_rows, hour_bytes = UsageHour.objects.count(), table_bytes(UsageHour)
    per_day = 24 * 60 / args.minutes
    print(
        f"\n== Usage volume: {args.credentials:,} active credentials, {args.rate:,} req/s, "
        f"{args.model} choice of credential, {args.minutes} simulated minutes; {flushes} flushes "
        f"(all of the fleet's 10 s in one) took {writing / flushes * 1000:.0f} ms each "
        f"({written:.1f} s with the simulation)\n"
    )
    print(
        f"{'table':<8}  {'rows written':>12}  {'rows/day':>13}  {'bytes/row':>9}  {'disk/day':>10}"
    )
    print(
        f"{'minutes':<8}  {minute_rows:>12,}  {minute_rows * per_day:>13,.0f}  "
        f"{minute_bytes / max(minute_rows, 1):>9.0f}  {minute_bytes * per_day / 2**30:>8.2f} GiB"
    )
    # An hour's rows grow with the distinct keys of the hour; with under an hour simulated the
    # hour rows equal the distinct keys seen so far: a lower bound, stated as such.
    print(
        f"{'compact':<8}  {'':>12}  {'':>13}  {compact_bytes / max(minute_rows, 1):>9.0f}  "
        f"{compact_bytes * per_day / 2**30:>8.2f} GiB   (the minutes after VACUUM FULL)"
    )
    print(
        f"{'hours':<8}  {hour_rows:>12,}  {'≥ ' + format(hour_rows * 24, ','):>13}  "
        f"{hour_bytes / max(hour_rows, 1):>9.0f}  ≥ {hour_bytes * 24 / 2**30:>6.2f} GiB"
    )
    print(
        f"\nKept: minutes {os.environ.get('USAGE_MINUTES_RETENTION_HOURS', 48)} h → "
        f"{minute_bytes * per_day * 2 / 2**30:.1f} GiB standing; hours 90 d → "
        f"≥ {hour_bytes * 24 * 90 / 2**30:.1f} GiB standing."
    )


if __name__ == "__main__":
    main()
