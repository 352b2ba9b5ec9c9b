"""How much authentication costs per request: Keyward's bearer path beside DRF's and DOT's.

`make bench` (or `python -m bench.auth --help`). One process, one database, one
trivial endpoint mounted once per authentication stack (`bench/urls.py`); the
requests are interleaved round-robin across the stacks after a warm-up, so
drift in the machine hits every row alike.

Each request goes through the WSGI handler Keyward is served by (portal.wsgi's:
Django's `WSGIHandler`, portal.handlers; all of Keyward's middleware, the
request_started/request_finished signals and their connection checks, URL
resolution, DRF), as a WSGI server would call it: no test client, whose request
building and response decoration would add cost to every row.
"""

import argparse
import datetime
import gc
import io
import os
import random
import secrets
import statistics
import sys
import time
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.utils import timezone  # noqa: E402
from oauth2_provider.models import set_token_value  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

from accounts.models import Membership, Organization, Role, User  # noqa: E402
from bench.urls import (  # noqa: E402
    DOT,
    DRF,
    KEYWARD_COLD,
    KEYWARD_WARM,
    KEYWARD_WARM_UNCOUNTED,
    NO_AUTH,
    QUERY_ROWS,
    QUERY_SUFFIX,
    ROWS,
)
from portal.handlers import WSGIHandler  # noqa: E402  (portal.wsgi's: what gunicorn serves)
from portal.postgresql.base import DatabaseWrapper as SocketCheckedWrapper  # noqa: E402
from tokens.cache import invalidation  # noqa: E402
from tokens.models import AccessToken, Kind  # noqa: E402
from tokens.personal import services  # noqa: E402

FILLER_NAME = "bench filler"  # marks the stored tokens nobody presents; re-runs reuse them
KEYWARD_NAME = "bench keyward"
KEYWARD_COLD_NAME = "bench keyward cold"
DOT_NAME = "bench dot"
BATCH = 20_000  # rows per bulk_create batch where INSERT … SELECT is not available (SQLite)

# The targets (DESIGN.md): each is printed with PASS or FAIL.
WARM_VS_FLOOR = 1.08  # warm path, × the no-auth floor's median (DESIGN.md; goal 1.05)
USAGE_COUNTING_US = 5.0  # what usage (counting, scope headers) may add to the warm path (DESIGN.md)
COLD_VS_DRF = (
    0.50  # cold path, × DRF TokenAuthentication's median, DRF in its default configuration
)
COLD_VS_DOT = (
    0.30  # cold path, × DOT OAuth2Authentication's median, DOT in its default configuration
)
HTTP_VS_FLOOR = 0.93  # warm path over HTTP, × the floor's requests per second
QUERY_WARM_VS_FLOOR = 1.10  # warm, on an endpoint that runs one query, × that endpoint's floor
MEMORY_PER_CREDENTIAL = 2048  # bytes of resident memory per cached credential
LOST_WAKEUP_MAX_MS = 1500.0  # a lost NOTIFY costs at most the poll interval (1 s)
PROPAGATION_P99_MS = 5.0
FLAT_WITHIN = 0.10


# --- The database --------------------------------------------------------------------


def ensure_database(settings_dict):
    """Create the PostgreSQL database if it does not exist yet (asking the `postgres` db)."""
    import psycopg
    from psycopg import sql

    name = settings_dict["NAME"]
    params = {
        "dbname": "postgres",
        "user": settings_dict["USER"] or None,
        "password": settings_dict["PASSWORD"] or None,
        "host": settings_dict["HOST"] or None,
        "port": settings_dict["PORT"] or None,
    }
    with psycopg.connect(**{k: v for k, v in params.items() if v}, autocommit=True) as admin:
        if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            return
        print(f"creating database {name}")
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def prepare_database(allow_sqlite):
    if connection.vendor == "sqlite" and not allow_sqlite:
        sys.exit(
            "bench.auth measures against PostgreSQL: SQLite has no network round trip and a\n"
            "different planner, so its numbers say little about production. Unset DATABASE_URL\n"
            "(bench defaults to postgres://keyward:keyward@127.0.0.1:5432/keyward_bench), point it\n"
            "at PostgreSQL, or pass --allow-sqlite to measure anyway."
        )
    if connection.vendor == "postgresql":
        ensure_database(connection.settings_dict)
    call_command("migrate", interactive=False, verbosity=0)


@contextmanager
def using_database(wrapper):
    """Make `wrapper` the "default" connection for the block (Keyward's lookup always uses it)."""
    previous = connections["default"]
    connections["default"] = wrapper
    try:
        yield
    finally:
        connections["default"] = previous


def second_database(name):
    """A "default" connection to another database on the same server (for --compare-sizes)."""
    wrapper = connections.create_connection("default")
    wrapper.settings_dict = {**wrapper.settings_dict, "NAME": name}
    return wrapper


# --- Seeding -------------------------------------------------------------------------


@dataclass
class Cast:
    user: User
    membership: Membership


def seed_cast():
    org, _ = Organization.objects.get_or_create(slug="bench", defaults={"name": "Bench"})
    user = User.objects.filter(email="bench@example.com").first() or User.objects.create_user(
        "bench@example.com", None
    )
    membership, _ = Membership.objects.get_or_create(
        user=user, organization=org, defaults={"role": Role.ADMIN}
    )
    return Cast(user=user, membership=membership)


def seed_fillers(cast, target):
    """Top the stored personal tokens up (or down) to `target`; a re-run at the same size writes nothing."""
    fillers = AccessToken.objects.filter(name=FILLER_NAME)
    have = fillers.count()
    if have > target:
        print(f"removing {have - target:,} filler tokens ({have:,} → {target:,})")
        last_kept = fillers.order_by("id").values_list("id", flat=True)[target - 1] if target else 0
        # Plain SQL: Model.delete() would first load every row to look for cascades (fillers have none).
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {connection.ops.quote_name(AccessToken._meta.db_table)} WHERE name = %s AND id > %s",
                [FILLER_NAME, last_kept],
            )
    elif have < target:
        started = time.perf_counter()
        print(f"seeding {target - have:,} filler tokens ({have:,} → {target:,}) …", flush=True)
        if connection.vendor == "postgresql":
            _insert_fillers_postgres(cast, target - have)
        else:
            _insert_fillers_bulk(cast, target - have)
        print(f"  done in {time.perf_counter() - started:.1f} s")
    else:
        return
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(AccessToken._meta.db_table)}")


def _filler(cast):
    return AccessToken(
        kind=Kind.PERSONAL,
        name=FILLER_NAME,
        user=cast.user,
        membership=cast.membership,
        organization=cast.membership.organization,
        scope="read.me",
        last4="0000",
        token="",
    )


def _insert_fillers_postgres(cast, count):
    """One INSERT … SELECT generate_series: the server makes the rows, ~1M in well under a minute.

    Every column but the digest comes from one template row, run through the
    fields' own save conversion, so new NOT NULL columns need no change here.
    """
    template = _filler(cast)
    fields = [f for f in AccessToken._meta.concrete_fields if not f.primary_key]
    columns, values, params = [], [], []
    for field in fields:
        columns.append(connection.ops.quote_name(field.column))
        if field.name == "token_checksum":
            # Random, unique digests: what a real table of SHA-256 checksums looks like to the index.
            values.append("encode(sha256(gen_random_uuid()::text::bytea), 'hex')")
        else:
            values.append("%s")
            params.append(field.get_db_prep_save(field.pre_save(template, add=True), connection))
    table = connection.ops.quote_name(AccessToken._meta.db_table)
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}) "
        f"SELECT {', '.join(values)} FROM generate_series(1, %s)"
    )
    with connection.cursor() as cursor:
        for start in range(0, count, 250_000):  # batches keep each transaction's WAL modest
            cursor.execute(sql, [*params, min(250_000, count - start)])


def _insert_fillers_bulk(cast, count):
    for start in range(0, count, BATCH):
        batch = []
        for _ in range(min(BATCH, count - start)):
            token = _filler(cast)
            token.token_checksum = secrets.token_hex(32)
            batch.append(token)
        AccessToken.objects.bulk_create(batch)


def seed_credentials(cast):
    """Fresh tokens for the measured user (plaintexts are shown once, so each run makes its own)."""
    AccessToken.objects.filter(
        name__in=[KEYWARD_NAME, KEYWARD_COLD_NAME, DOT_NAME], membership=cast.membership
    ).delete()

    # Two Keyward tokens: the warm row's is cached after its first request; the cold row's is
    # never stored (its class keeps no cache), so each of its requests is a miss.
    keyward, keyward_cold = (
        services.issue_personal_token(
            issuer=cast.membership, name=name, scopes=["read.me"]
        ).secret.reveal()
        for name in (KEYWARD_NAME, KEYWARD_COLD_NAME)
    )

    # DOT's validator wants a non-null `expires` in the future; no application is needed.
    dot = "bench_dot_" + secrets.token_urlsafe(32)
    token = AccessToken(
        kind=Kind.OAUTH,
        name=DOT_NAME,
        user=cast.user,
        membership=cast.membership,
        organization=cast.membership.organization,
        scope="read.me",
        last4=dot[-4:],
        expires=timezone.now() + datetime.timedelta(days=365),
    )
    set_token_value(token, dot)
    token.save()

    drf, _ = Token.objects.get_or_create(user=cast.user)
    return {
        NO_AUTH: None,
        KEYWARD_WARM: f"Bearer {keyward}",
        KEYWARD_WARM_UNCOUNTED: f"Bearer {keyward}",
        KEYWARD_COLD: f"Bearer {keyward_cold}",
        DRF: f"Token {drf.key}",
        DOT: f"Bearer {dot}",
    }


def seed(tokens):
    cast = seed_cast()
    seed_fillers(cast, tokens)
    return seed_credentials(cast)


# --- Requests ------------------------------------------------------------------------


def _start_response(status, headers, exc_info=None):
    return None


class Endpoint:
    """One row of the table: a URL and the Authorization header it is called with."""

    def __init__(self, name, path, authorization, database=None):
        self.name = name
        self.database = database  # a connection to swap in as "default" for this row, or None
        self.environ = {
            "REQUEST_METHOD": "GET",
            "SCRIPT_NAME": "",
            "PATH_INFO": "/" + path,
            "QUERY_STRING": "",
            "SERVER_NAME": "localhost",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": "localhost",
            "HTTP_ACCEPT": "application/json",
            "REMOTE_ADDR": "127.0.0.1",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        if authorization:
            self.environ["HTTP_AUTHORIZATION"] = authorization
        self.samples = []

    def on_its_database(self):
        return using_database(self.database) if self.database else nullcontext()

    def call(self, handler):
        """One request, as a WSGI server makes it; returns nanoseconds (and checks the answer)."""
        environ = {**self.environ, "wsgi.input": io.BytesIO()}
        started = time.perf_counter_ns()
        response = handler(environ, _start_response)
        body = b"".join(response)
        response.close()  # fires request_finished, as a server does
        elapsed = time.perf_counter_ns() - started
        if response.status_code != 200 or body != b'{"ok":true}':
            raise SystemExit(f"{self.name}: {response.status_code} {body[:300]!r}")
        return elapsed


@dataclass
class Result:
    name: str
    median_us: float
    p90_us: float
    queries: float
    health_checks: float
    last_used_writes: float


def measure(handler, endpoints, *, rounds, warmup):
    """Every endpoint once per round, in a freshly shuffled order: a fixed rotation always puts the
    same row after the same neighbour (a warm row after a cold one, say), which skewed rows that
    do the very same work by 10-15 %."""
    for _ in range(warmup):
        for endpoint in endpoints:
            with endpoint.on_its_database():
                endpoint.call(handler)
    gc.collect()
    order = list(endpoints)
    shuffle = random.Random(13).shuffle
    for _ in range(rounds):
        shuffle(order)
        for endpoint in order:
            with endpoint.on_its_database():
                endpoint.samples.append(endpoint.call(handler))


def count_round_trips(handler, endpoint, requests):
    """SQL statements and connection health checks per request, over a separate short pass.

    Counting slows every query, so the timed pass does not count. An execute
    wrapper rather than CaptureQueriesContext: request_started empties the
    captured-queries log at the start of every request. The health check
    (CONN_HEALTH_CHECKS: a `SELECT 1` before the first query of a request) is
    a round trip of its own that no query log shows, so it is counted apart.
    """
    counts = {"sql": 0, "health": 0, "last_used": 0}

    def count_sql(execute, sql, params, many, context):
        if sql.startswith("UPDATE") and "last_used_at" in sql:
            counts["last_used"] += 1  # at most once per credential per interval; counted apart
        else:
            counts["sql"] += 1
        return execute(sql, params, many, context)

    with endpoint.on_its_database():
        db = connections["default"]
        is_usable = db.is_usable

        # Keyward's backend judges health from the socket: no round trip to count.
        asks_the_server = not isinstance(db, SocketCheckedWrapper)

        def count_health_check():
            counts["health"] += asks_the_server
            return is_usable()

        db.is_usable = count_health_check
        try:
            with db.execute_wrapper(count_sql):
                for _ in range(requests):
                    endpoint.call(handler)
        finally:
            del db.is_usable
    return counts["sql"] / requests, counts["health"] / requests, counts["last_used"] / requests


def summarize(endpoint, counts):
    us = [s / 1000 for s in endpoint.samples]
    return Result(endpoint.name, statistics.median(us), statistics.quantiles(us, n=10)[-1], *counts)


# --- Report --------------------------------------------------------------------------


def verdict(ok):
    return "PASS" if ok else "FAIL"


def print_table(results, baseline, baseline_label):
    width = max(len(r.name) for r in results)
    print(
        f"{'row':<{width}}  {'median µs':>9}  {'p90 µs':>8}  {'× ' + baseline_label:>11}  "
        f"{'+µs':>7}  {'SQL/req':>7}  {'health checks/req':>17}  {'last-used writes/req':>20}"
    )
    for r in results:
        print(
            f"{r.name:<{width}}  {r.median_us:>9.1f}  {r.p90_us:>8.1f}  "
            f"{r.median_us / baseline.median_us:>11.2f}  {r.median_us - baseline.median_us:>7.1f}  "
            f"{r.queries:>7.2f}  {r.health_checks:>17.2f}  {r.last_used_writes:>20.2f}"
        )


def print_targets(by_name):
    floor, warm, cold = by_name[NO_AUTH], by_name[KEYWARD_WARM], by_name[KEYWARD_COLD]
    drf, dot = by_name[f"{DRF}, default"], by_name[f"{DOT}, default"]
    print()
    # DESIGN.md: the warm path is verification and the scope check; usage counting, rate
    # limits, credits and allowlists each have their own budget on top of it.
    plain = by_name.get(KEYWARD_WARM_UNCOUNTED, warm)
    ratio = plain.median_us / floor.median_us
    print(
        f"[{verdict(ratio <= WARM_VS_FLOOR)}] warm path: {ratio:.3f}× the no-auth floor, "
        f"+{plain.median_us - floor.median_us:.1f} µs (target ≤ {WARM_VS_FLOOR}; "
        f"{plain.name}); with usage: {warm.median_us / floor.median_us:.3f}×"
    )
    print(
        f"[{verdict(warm.queries == 0)}] warm path: {warm.queries:.2f} SQL per request besides last-used writes "
        f"(target 0); last-used writes {warm.last_used_writes:.2f}/req, at most one per token per "
        f"TOKEN_LAST_USED_INTERVAL_SECONDS"
    )
    for peer, target in ((drf, COLD_VS_DRF), (dot, COLD_VS_DOT)):
        ratio = cold.median_us / peer.median_us
        added = (cold.median_us - floor.median_us) / (peer.median_us - floor.median_us)
        print(
            f"[{verdict(ratio <= target)}] cold path: {ratio:.3f}× {peer.name} (target ≤ {target:.2f}); "
            f"{added:.2f} of the time it adds over the floor"
        )
    print(
        f"[{verdict(cold.queries <= 1)}] cold path: {cold.queries:.2f} SQL per request (target ≤ 1)"
    )
    query_floor = by_name.get(NO_AUTH + QUERY_SUFFIX)
    query_warm = by_name.get(KEYWARD_WARM + QUERY_SUFFIX)
    if query_floor is not None and query_warm is not None:
        ratio = query_warm.median_us / query_floor.median_us
        trips = query_warm.queries + query_warm.health_checks
        print(
            f"[{verdict(ratio <= QUERY_WARM_VS_FLOOR)}] one-query endpoint, warm: {ratio:.3f}× its "
            f"no-auth floor (target ≤ {QUERY_WARM_VS_FLOOR})"
        )
        print(
            f"[{verdict(trips == 1)}] one-query endpoint, warm: {trips:.2f} round trips per request "
            f"({query_warm.queries:.2f} SQL, {query_warm.health_checks:.2f} health checks; target 1)"
        )
    uncounted = by_name.get(KEYWARD_WARM_UNCOUNTED)
    if uncounted is not None:
        print(
            f"usage in this mix (counting and the scope headers, no verdict: identical rows differ "
            f"here by up to ~12 µs): {warm.median_us - uncounted.median_us:+.1f} µs per warm "
            f"request, {warm.queries:.2f} SQL per request; judged in its own pass below"
        )


def paired_added_us(row, baseline):
    """What `row` adds over `baseline`: the median of their per-round differences (`measure`
    calls every row once a round, so sample i of each is round i). Steadier than the difference
    of medians on a noisy machine: identical rows measured 0.5 µs apart (sd) this way in a pass
    of their own, 4.3 µs as a difference of medians."""
    return (
        statistics.median(r - b for r, b in zip(row.samples, baseline.samples, strict=True)) / 1000
    )


def run_usage_budget(handler, headers, args, queries):
    """Usage's own budget, measured as the limits' is: the rows that differ only in it (and the
    floor), interleaved in a pass of their own; in the peers' mix, DRF's and DOT's requests
    leave the caches cold for whatever follows, which adds noise larger than the budget."""
    endpoints = [
        Endpoint(NO_AUTH, "none/", None),
        Endpoint(KEYWARD_WARM, "keyward/", headers[KEYWARD_WARM]),
        Endpoint(KEYWARD_WARM_UNCOUNTED, "keyward-uncounted/", headers[KEYWARD_WARM]),
    ]
    print(
        f"\n== Usage's budget: {args.rounds:,} interleaved rounds after {args.warmup:,} warm-up, "
        f"these rows only; WSGIHandler\n"
    )
    measure(handler, endpoints, rounds=args.rounds, warmup=args.warmup)
    floor, warm, uncounted = endpoints
    results = [summarize(e, (queries.get(e.name, 0.0), 0.0, 0.0)) for e in endpoints]
    print_table(results, results[0], "no auth")
    added = paired_added_us(warm, uncounted)
    sql = queries.get(KEYWARD_WARM, 0.0)
    print(
        f"\n[{verdict(added <= USAGE_COUNTING_US and sql == 0)}] usage (counting and the scope "
        f"headers): {added:+.1f} µs per warm request (median of paired differences; target ≤ "
        f"{USAGE_COUNTING_US:.0f}; the warm path itself {paired_added_us(uncounted, floor):+.1f} "
        f"µs over the floor here), {sql:.2f} SQL per request (target 0; flushed in batches by a "
        f"thread)"
    )


def describe_database(*names):
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
            version = "PostgreSQL " + cursor.fetchone()[0].split()[0]
        else:
            version = connection.vendor
    databases = " and ".join(names or [connection.settings_dict["NAME"]])
    return f"{version} ({databases})"


def health_checked(on):
    """A "default" connection for the peers: the same database through Django's own backend
    (their configuration: a health check is a `SELECT 1`), with health checks on or off."""
    from django.db.backends.postgresql.base import DatabaseWrapper

    settings_dict = {**connections["default"].settings_dict, "CONN_HEALTH_CHECKS": on}
    if connection.vendor != "postgresql":
        wrapper = connections.create_connection("default")
        wrapper.settings_dict = settings_dict
        return wrapper
    return DatabaseWrapper({**settings_dict, "ENGINE": "django.db.backends.postgresql"}, "default")


def listening():
    if not invalidation.wait_until_listening(timeout=15):
        sys.exit(
            "the credential cache's listener did not connect: the warm rows would measure the database"
        )


# --- Modes ---------------------------------------------------------------------------


def run_peers(args):
    """Every row in one process, interleaved; DRF and DOT in their default configuration (no
    connection health checks) and with them; Keyward in its own (health checks on, which its
    lookup stands in for)."""
    headers = seed(args.tokens)
    listening()
    handler = WSGIHandler()
    plain, checked = health_checked(False), health_checked(True)
    endpoints = []
    for name, path, _auth, _perms in ROWS + QUERY_ROWS:
        base = name.removesuffix(QUERY_SUFFIX)
        suffix = name[len(base) :]
        if base in (DRF, DOT):
            endpoints.append(
                Endpoint(f"{base}, default{suffix}", path, headers[base], database=plain)
            )
            endpoints.append(
                Endpoint(f"{base}, health checks{suffix}", path, headers[base], database=checked)
            )
        else:
            endpoints.append(Endpoint(name, path, headers[base]))
    print(
        f"\n== In process: {describe_database()}; {args.tokens:,} stored filler tokens; "
        f"{args.rounds:,} interleaved rounds after {args.warmup:,} warm-up; WSGIHandler\n"
    )
    measure(handler, endpoints, rounds=args.rounds, warmup=args.warmup)
    results = [summarize(e, count_round_trips(handler, e, args.query_pass)) for e in endpoints]
    print_table(results, results[0], "no auth")
    print_targets({r.name: r for r in results})
    run_usage_budget(handler, headers, args, {r.name: r.queries for r in results})


def run_sizes(args):
    """Warm and cold Keyward rows against a small and a large table, interleaved, each in its own
    database. (The listener hears the small database; the warm rows never ask either.)"""
    warm_path, cold_path = ROWS[1][1], ROWS[2][1]
    small = seed(args.tokens)
    large_db = second_database(f"{connection.settings_dict['NAME']}_large")
    ensure_database(large_db.settings_dict)
    with using_database(large_db):
        call_command("migrate", interactive=False, verbosity=0)
        large = seed(args.large_tokens)
    listening()
    endpoints = [
        Endpoint(f"warm, {args.tokens:,} tokens", warm_path, small[KEYWARD_WARM]),
        Endpoint(
            f"warm, {args.large_tokens:,} tokens",
            warm_path,
            large[KEYWARD_WARM],
            database=large_db,
        ),
        Endpoint(f"cold, {args.tokens:,} tokens", cold_path, small[KEYWARD_COLD]),
        Endpoint(
            f"cold, {args.large_tokens:,} tokens",
            cold_path,
            large[KEYWARD_COLD],
            database=large_db,
        ),
    ]
    handler = WSGIHandler()
    names = connection.settings_dict["NAME"], large_db.settings_dict["NAME"]
    print(
        f"\n== Flatness: {describe_database(*names)}; {args.rounds:,} interleaved rounds after "
        f"{args.warmup:,} warm-up; WSGIHandler\n"
    )
    measure(handler, endpoints, rounds=args.rounds, warmup=args.warmup)
    results = [summarize(e, count_round_trips(handler, e, args.query_pass)) for e in endpoints]
    print_table(results, results[0], "small warm")
    print()
    for label, small, large in (("warm", results[0], results[1]), ("cold", results[2], results[3])):
        ratio = large.median_us / small.median_us
        print(
            f"[{verdict(abs(ratio - 1) <= FLAT_WITHIN)}] {label} path: {args.large_tokens:,} / {args.tokens:,} "
            f"tokens median {ratio:.3f} (target flat within ±{FLAT_WITHIN:.0%})"
        )


def _database_url():
    from bench.live import database_url

    return database_url(connection.settings_dict)


def _wrk(url, authorization, seconds, connections_=8):
    """Requests per second, p50 and p99 latency in ms, from one `wrk --latency` run."""
    import re
    import subprocess

    command = ["wrk", "-t2", f"-c{connections_}", f"-d{seconds}s", "--latency", url]
    if authorization:
        command[1:1] = ["-H", f"Authorization: {authorization}"]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    unit = {"us": 0.001, "ms": 1.0, "s": 1000.0}

    def latency(percent):
        value, suffix = re.search(rf"^\s+{percent}%\s+([0-9.]+)(us|ms|s)$", out, re.M).groups()
        return float(value) * unit[suffix]

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise SystemExit(f"{url}: {errors.group(1)} failed responses\n{out}")
    return float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1)), latency(50), latency(99)


def run_http(args):
    """gunicorn, 2 sync workers on loopback, and wrk: the same endpoints, interleaved rounds. Two
    servers: Keyward's settings (health checks on, which Keyward's lookup stands in for), and the
    peers' default configuration (no health checks); DRF and DOT are measured on both."""
    import shutil

    from bench.live import Server

    if not shutil.which("wrk"):
        sys.exit("the HTTP mode needs wrk (apt-get install wrk; `make bench` installs it)")
    headers = seed(args.tokens)
    env = {"DJANGO_SETTINGS_MODULE": "bench.settings"}
    checked = Server(database_url=_database_url(), workers=2, ready_path="/none/", extra_env=env)
    plain = Server(
        database_url=_database_url(),
        workers=2,
        ready_path="/none/",
        extra_env={**env, "BENCH_HEALTH_CHECKS": "false"},
    )
    rows = []
    for name, path, _a, _p in ROWS:
        if name in (DRF, DOT):
            rows.append((f"{name}, default", plain, path, headers[name]))
            rows.append((f"{name}, health checks", checked, path, headers[name]))
        else:
            rows.append((name, checked, path, headers[name]))
    try:
        for (
            _name,
            server,
            path,
            header,
        ) in rows:  # warm-up: every worker starts its listener and cache
            _wrk(f"{server.url}/{path}", header, 2)
        samples = {name: [] for name, *_ in rows}
        for i in range(args.http_rounds):
            for k in range(len(rows)):
                name, server, path, header = rows[(i + k) % len(rows)]
                samples[name].append(_wrk(f"{server.url}/{path}", header, args.http_seconds))
        by_name = {name: (f"{server.url}/{path}", header) for name, server, path, header in rows}
        paired = _paired_ratios(
            by_name[NO_AUTH], by_name[KEYWARD_WARM], args.http_pairs, args.http_pair_seconds
        )
    finally:
        checked.stop()
        plain.stop()
    print(
        f"\n== HTTP: gunicorn 2 sync workers on 127.0.0.1, wrk -t2 -c8, {args.http_rounds} interleaved "
        f"rounds of {args.http_seconds} s per row; {describe_database()}\n"
    )
    width = max(len(name) for name in samples)
    print(f"{'row':<{width}}  {'req/s':>8}  {'p50 ms':>7}  {'p99 ms':>7}  {'× floor req/s':>13}")
    rates = {name: statistics.median(s[0] for s in runs) for name, runs in samples.items()}
    for name, runs in samples.items():
        p50 = statistics.median(s[1] for s in runs)
        p99 = statistics.median(s[2] for s in runs)
        print(
            f"{name:<{width}}  {rates[name]:>8.0f}  {p50:>7.2f}  {p99:>7.2f}  {rates[name] / rates[NO_AUTH]:>13.2f}"
        )
    ratio = statistics.median(paired)
    print(
        f"\n[{verdict(ratio >= HTTP_VS_FLOOR)}] HTTP warm path: {ratio:.3f}× the floor's req/s "
        f"(target ≥ {HTTP_VS_FLOOR}; the median of {len(paired)} back-to-back pairs of "
        f"{args.http_pair_seconds} s runs, each warm run against the floor runs either side of "
        f"it: {min(paired):.3f} to {max(paired):.3f}; in the table above "
        f"{rates[KEYWARD_WARM] / rates[NO_AUTH]:.3f}×)"
    )


def _paired_ratios(floor, warm, pairs, seconds):
    """Warm req/s over the floor's, from runs alternated back to back (floor, warm, floor, …):
    each warm run against the mean of the two floor runs either side of it, so a drift of the
    machine's speed during the pass (seen on a VM: the in-process floor took 315 µs in one pass
    and 581 µs in the next) falls on both sides of each ratio, where the table's rows may run
    up to 7 runs apart."""
    floors = [_wrk(*floor, seconds)[0]]
    ratios = []
    for _ in range(pairs):
        rate = _wrk(*warm, seconds)[0]
        floors.append(_wrk(*floor, seconds)[0])
        ratios.append(rate / ((floors[-2] + floors[-1]) / 2))
    return ratios


def _log_end():
    """The invalidation log's highest seq: every change committed so far is at or below it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(seq), 0) FROM keyward_invalidation_log")
        return cursor.fetchone()[0]


def _written_since(seq):
    """(the highest seq, when the first row was written) of the log rows above `seq`: a change's
    rows, stamped by clock_timestamp() inside the writer's transaction, before its commit."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT max(seq), extract(epoch FROM min(logged_at)) FROM keyward_invalidation_log "
            "WHERE seq > %s",
            [seq],
        )
        high, written = cursor.fetchone()
    if high is None:
        raise SystemExit("the revocation wrote nothing to the invalidation log")
    return high, float(written)


def _confirmed_at(server, seq, timeout=2.0):
    """When `server`'s worker confirmed it had applied the log up to `seq` (its receipt's
    seen_at: the database's clock, after the entries were dropped), in seconds since the epoch.
    A read after that one moves seen_at later, never earlier: the figure can only overstate."""
    pids = [str(pid) for pid in server.worker_pids()]
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while True:
            cursor.execute(
                "SELECT extract(epoch FROM seen_at) FROM keyward_cache_receipt "
                "WHERE split_part(process, ':', 2) = ANY(%s) AND applied_seq >= %s",
                [pids, seq],
            )
            row = cursor.fetchone()
            if row is not None:
                return float(row[0])
            if time.monotonic() > deadline:
                raise SystemExit(f"server b never confirmed the log up to seq {seq}")
            time.sleep(0.001)


def _percentiles(values):
    values = sorted(values)
    return statistics.median(values), values[max(0, int(len(values) * 0.99) - 1)], values[-1]


def run_propagation(args):
    """Revoke through one server's API, poll another until it answers 401: woken by NOTIFY,
    with every wake-up dropped (polling only), and the receipt a write waits for.

    Judged: from a's answer to b's own confirmation that it dropped the entry (its receipt in
    the database, stamped by the database's clock on this same machine; 0 when b confirmed
    before a's answer reached the client). Shown beside it: from the revocation's log row
    (written inside a's transaction, before the rest of it and its commit) to that receipt, and
    from a's answer to the end of b's first 401 as the polling client saw it, which also holds
    that request's own round trip (3-5 ms here through python-requests and a sync worker,
    whether or not b still had the entry)."""
    from bench.live import Server

    cast = seed_cast()
    revoker = services.issue_personal_token(
        issuer=cast.membership, name="bench revoker", scopes=["delete.tokens", "read.me"]
    ).secret.reveal()
    ttl = 30
    runs = (
        ("NOTIFY", {"CREDENTIAL_PROPAGATION_WAIT_MS": "0"}, {}, args.trials),
        (
            "wake-up dropped (b polls only)",
            {"CREDENTIAL_PROPAGATION_WAIT_MS": "0"},
            {"CREDENTIAL_INVALIDATION_LISTEN": "false"},
            min(args.trials, 40),
        ),
        ("receipt (a waits for every worker)", {}, {}, args.trials),
    )
    for channel, a_env, b_env, trials in runs:
        a = Server(database_url=_database_url(), ttl=ttl, extra_env=a_env)
        b = Server(database_url=_database_url(), ttl=ttl, extra_env=b_env)
        try:
            a.wait_until_listening(f"Bearer {revoker}")
            b.wait_until_listening(f"Bearer {revoker}")
            hits_before = b.hits()
            lags, reached, since_written, round_trips, receipts = [], [], [], [], []
            unconfirmed, polls, at_once, early = 0, 0, 0, 0
            for _ in range(trials):
                issued = services.issue_personal_token(
                    issuer=cast.membership, name="bench victim", scopes=["read.me"]
                )
                victim = f"Bearer {issued.secret.reveal()}"
                for _ in range(2):  # cached on b
                    assert b.get("/api/v1/me", victim).status_code == 200
                before = _log_end()
                response = a.session.delete(
                    f"{a.url}/api/v1/tokens/{issued.credential.pk}",
                    headers={"Authorization": f"Bearer {revoker}"},
                    timeout=10,
                )
                answered, answered_at = time.perf_counter(), time.time()
                if response.status_code not in (200, 204):
                    raise SystemExit(
                        f"revoke through a: {response.status_code} {response.text[:300]}"
                    )
                confirmed, _, ms = response.headers.get("Keyward-Propagated", "0/0 0ms").partition(
                    " "
                )
                done, live = (int(n) for n in confirmed.split("/"))
                receipts.append(int(ms.removesuffix("ms")))
                unconfirmed += done < live
                tries = 0
                while True:
                    tries += 1
                    sent = time.perf_counter()
                    if b.get("/api/v1/me", victim).status_code == 401:
                        break
                refused = time.perf_counter()
                polls += tries
                at_once += tries == 1
                lags.append((refused - answered) * 1000)
                round_trips.append((refused - sent) * 1000)
                high, written = _written_since(before)
                confirmed = _confirmed_at(b, high)
                reached.append(max(0.0, confirmed - answered_at) * 1000)
                since_written.append((confirmed - written) * 1000)
                early += confirmed <= answered_at
            hits = b.hits() - hits_before
        finally:
            a.stop()
            b.stop()
        p50, p99, top = _percentiles(lags)
        r50, r99, rtop = _percentiles(reached)
        print(
            f"\n== Propagation, {channel}: {len(lags)} trials; revoke through server a "
            f"(DELETE /api/v1/tokens/{{id}}), poll server b (GET /api/v1/me) until 401; each its own "
            f"gunicorn sync worker"
        )
        w50, w99, wtop = _percentiles(since_written)
        print(
            f"a's answer → reached b (b's receipt: entry dropped and confirmed): p50 {r50:.1f} ms"
            f"   p99 {r99:.1f} ms   max {rtop:.1f} ms   ({early} of {len(reached)} confirmed "
            f"before a's answer reached the client)"
        )
        print(
            f"the revocation's log row written (in a's transaction, before its commit) → b's "
            f"receipt: p50 {w50:.1f} ms   p99 {w99:.1f} ms   max {wtop:.1f} ms"
        )
        print(
            f"a's answer → b's first 401 answered: p50 {p50:.1f} ms   p99 {p99:.1f} ms   max {top:.1f} ms   "
            f"(of which that request's own round trip p50 {statistics.median(round_trips):.1f} ms; "
            f"{polls / len(lags):.2f} polls per trial; b answered {hits:.0f} requests from its cache)"
        )
        if channel.startswith("NOTIFY"):
            print(
                f"[{verdict(r99 <= PROPAGATION_P99_MS)}] {channel}: reached b in p99 {r99:.1f} ms "
                f"(target ≤ {PROPAGATION_P99_MS:.0f}); b's first 401 answered in p99 {p99:.1f} ms"
            )
        elif channel.startswith("wake-up"):
            print(
                f"[{verdict(top <= LOST_WAKEUP_MAX_MS)}] {channel}: b's first 401 answered in "
                f"max {top:.1f} ms (target ≤ {LOST_WAKEUP_MAX_MS:.0f})"
            )
        else:
            c50, c99, _ = _percentiles(receipts)
            print(
                f"Keyward-Propagated: p50 {c50} ms, p99 {c99} ms until every live worker confirmed; "
                f"{unconfirmed} of {len(receipts)} answered before all had; b refused the very first "
                f"request after the answer in {at_once} of {len(lags)} trials"
            )
            print(
                f"[{verdict(unconfirmed == 0)}] receipt: every revoke confirmed by every live worker "
                f"(p99 {c99} ms, bound 1000 ms)"
            )


def _resident_bytes():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def run_memory(args):
    """A worker's resident memory with 0, 10,000 and 100,000 cached credentials: the entries are
    what a cold lookup stores (the lookup's own row, its tags, the User fields worked out once),
    built from real rows of the stored tokens."""
    from django.conf import settings as django_settings

    from tokens.bearer.authentication import _Cached
    from tokens.bearer.lookup import rows_of
    from tokens.cache.store import CredentialCache, bearer_tags

    sizes = (0, 10_000, 100_000)
    cast = seed_cast()
    seed_fillers(cast, max(args.tokens, sizes[-1]))
    django_settings.CREDENTIAL_CACHE_SIZE = sizes[-1] + 1
    # Streamed, so every entry owns its row's values, as after real lookups.
    fillers = AccessToken.objects.filter(name=FILLER_NAME).order_by("id")
    rows = rows_of(fillers, "token_checksum")[: sizes[-1]].iterator(chunk_size=2000)
    cache = CredentialCache()
    cache.set_listening(True)
    cache.trust_until(float("inf"))
    gc.collect()
    base = _resident_bytes()
    measured = []
    for size in sizes:
        while len(cache) < size:
            digest, *row = next(rows)
            row = tuple(row)
            tags = bearer_tags(row[0], row[7], row[11], row[6], row[15], row[18])
            cache.put(digest, _Cached(row), tags, cache.generation)
        gc.collect()
        measured.append((size, len(cache), _resident_bytes() - base))
    print(
        f"\n== Memory: one process's resident set growth (/proc/self/statm) as the credential "
        f"cache fills with real lookups' entries; {describe_database()}\n"
    )
    print(f"{'cached credentials':>18}  {'resident growth':>15}  {'bytes each':>10}")
    for size, held, grown in measured:
        each = f"{grown / size:,.0f}" if size else "—"
        print(f"{held:>18,}  {grown / 2**20:>12.1f} MiB  {each:>10}")
    per_entry = measured[-1][2] / measured[-1][0]
    print(
        f"\n[{verdict(per_entry <= MEMORY_PER_CREDENTIAL)}] memory: {per_entry:,.0f} bytes per cached "
        f"credential (target ≤ {MEMORY_PER_CREDENTIAL:,}); CREDENTIAL_CACHE_SIZE=10000 costs "
        f"about {per_entry * 10_000 / 2**20:.0f} MiB per worker"
    )


MODES = ("peers", "http", "propagation", "sizes", "memory", "limits")


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m bench.auth", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "modes",
        nargs="*",
        choices=[*MODES, []],
        default=[],
        help="which parts to run (default: all of them, in this order: " + ", ".join(MODES) + ")",
    )
    parser.add_argument(
        "--tokens",
        type=int,
        default=10_000,
        help="stored personal tokens besides the measured ones (default 10,000)",
    )
    parser.add_argument("--rounds", type=int, default=2_000, help="timed rounds (default 2,000)")
    parser.add_argument(
        "--warmup", type=int, default=200, help="untimed rounds first (default 200)"
    )
    parser.add_argument(
        "--query-pass",
        type=int,
        default=50,
        help="requests per row in the query-counting pass (default 50)",
    )
    parser.add_argument(
        "--compare-sizes", action="store_true", help="the same as the mode `sizes` alone"
    )
    parser.add_argument(
        "--large-tokens",
        type=int,
        default=1_000_000,
        help="stored tokens in the large database of `sizes` (<database>_large; default 1,000,000)",
    )
    parser.add_argument(
        "--http-rounds", type=int, default=3, help="HTTP: interleaved rounds (default 3)"
    )
    parser.add_argument(
        "--http-seconds", type=int, default=4, help="HTTP: seconds per row per round (default 4)"
    )
    parser.add_argument(
        "--http-pairs",
        type=int,
        default=40,
        help="HTTP: back-to-back floor/warm pairs the target is judged on (default 40)",
    )
    parser.add_argument(
        "--http-pair-seconds",
        type=int,
        default=2,
        help="HTTP: seconds per run of those pairs (default 2)",
    )
    parser.add_argument(
        "--trials", type=int, default=200, help="propagation: revocations per channel (default 200)"
    )
    parser.add_argument(
        "--allow-sqlite", action="store_true", help="measure the in-process rows on SQLite anyway"
    )
    args = parser.parse_args(argv)
    modes = ["sizes"] if args.compare_sizes else (args.modes or list(MODES))

    prepare_database(args.allow_sqlite)
    if connection.vendor != "postgresql" and set(modes) - {"peers"}:
        sys.exit("the sizes, HTTP and propagation modes need PostgreSQL.")
    for mode in modes:
        {
            "peers": run_peers,
            "http": run_http,
            "propagation": run_propagation,
            "sizes": run_sizes,
            "memory": run_memory,
            "limits": lambda args: __import__("bench.limits_rows").limits_rows.run(args),
        }[mode](args)


if __name__ == "__main__":
    main()
