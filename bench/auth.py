"""How much authentication costs per request: Keyward's bearer path beside DRF's and DOT's.

`make bench` (or `python -m bench.auth --help`). One process, one database, one
trivial endpoint mounted once per authentication stack (`bench/urls.py`); the
requests are interleaved round-robin across the stacks after a warm-up, so
drift in the machine hits every row alike.

Each request goes through Django's real `WSGIHandler` (all of Keyward's
middleware, the request_started/request_finished signals and their connection
checks, URL resolution, DRF), as a WSGI server would call it: no test client,
whose request building and response decoration would add cost to every row.
"""

import argparse
import datetime
import gc
import io
import os
import secrets
import statistics
import sys
import time
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django

django.setup()

from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.utils import timezone  # noqa: E402
from oauth2_provider.models import set_token_value  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

from accounts.models import Membership, Organization, Role, User  # noqa: E402
from bench.urls import ROWS  # noqa: E402
from tokens.models import AccessToken, Kind  # noqa: E402
from tokens.personal import services  # noqa: E402

FILLER_NAME = "bench filler"  # marks the stored tokens nobody presents; re-runs reuse them
KEYWARD_NAME = "bench keyward"
DOT_NAME = "bench dot"
BATCH = 20_000  # rows per bulk_create batch where INSERT … SELECT is not available (SQLite)

TARGET_VS_DRF = 0.60
TARGET_VS_DOT = 0.35
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
        kind=Kind.PERSONAL, name=FILLER_NAME, user=cast.user, membership=cast.membership,
        organization=cast.membership.organization, scope="read.me", last4="0000", token="",
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
    AccessToken.objects.filter(name__in=[KEYWARD_NAME, DOT_NAME], membership=cast.membership).delete()

    issued = services.issue_personal_token(issuer=cast.membership, name=KEYWARD_NAME, scopes=["read.me"])
    keyward = issued.secret.reveal()

    # DOT's validator wants a non-null `expires` in the future; no application is needed.
    dot = "bench_dot_" + secrets.token_urlsafe(32)
    token = AccessToken(
        kind=Kind.OAUTH, name=DOT_NAME, user=cast.user, membership=cast.membership,
        organization=cast.membership.organization, scope="read.me", last4=dot[-4:],
        expires=timezone.now() + datetime.timedelta(days=365),
    )
    set_token_value(token, dot)
    token.save()

    drf, _ = Token.objects.get_or_create(user=cast.user)
    return {
        "no auth": None,
        "Keyward AccessTokenAuthentication": f"Bearer {keyward}",
        "DRF TokenAuthentication": f"Token {drf.key}",
        "DOT OAuth2Authentication": f"Bearer {dot}",
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


def measure(handler, endpoints, *, rounds, warmup):
    """Round-robin over the endpoints, starting one further each round so none always goes first."""
    for _ in range(warmup):
        for endpoint in endpoints:
            with endpoint.on_its_database():
                endpoint.call(handler)
    gc.collect()
    n = len(endpoints)
    for i in range(rounds):
        for k in range(n):
            endpoint = endpoints[(i + k) % n]
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
    counts = {"sql": 0, "health": 0}

    def count_sql(execute, sql, params, many, context):
        counts["sql"] += 1
        return execute(sql, params, many, context)

    with endpoint.on_its_database():
        db = connections["default"]
        is_usable = db.is_usable

        def count_health_check():
            counts["health"] += 1
            return is_usable()

        db.is_usable = count_health_check
        try:
            with db.execute_wrapper(count_sql):
                for _ in range(requests):
                    endpoint.call(handler)
        finally:
            del db.is_usable
    return counts["sql"] / requests, counts["health"] / requests


def summarize(endpoint, counts):
    us = [s / 1000 for s in endpoint.samples]
    return Result(endpoint.name, statistics.median(us), statistics.quantiles(us, n=10)[-1], *counts)


# --- Report --------------------------------------------------------------------------


def verdict(ratio, target):
    return "holds" if ratio <= target else "MISSED"


def print_table(results, baseline, baseline_label):
    width = max(len(r.name) for r in results)
    print(f"{'row':<{width}}  {'median µs':>9}  {'p90 µs':>8}  {'× ' + baseline_label:>11}  "
          f"{'+µs':>7}  {'SQL/req':>7}  {'health checks/req':>17}")
    for r in results:
        print(f"{r.name:<{width}}  {r.median_us:>9.1f}  {r.p90_us:>8.1f}  "
              f"{r.median_us / baseline.median_us:>11.2f}  {r.median_us - baseline.median_us:>7.1f}  "
              f"{r.queries:>7.2f}  {r.health_checks:>17.2f}")


def print_targets(by_name):
    none, keyward = by_name["no auth"], by_name["Keyward AccessTokenAuthentication"]
    print()
    for peer_name, target in (
        ("DRF TokenAuthentication", TARGET_VS_DRF),
        ("DOT OAuth2Authentication", TARGET_VS_DOT),
    ):
        peer = by_name[peer_name]
        ratio = keyward.median_us / peer.median_us
        added = (keyward.median_us - none.median_us) / (peer.median_us - none.median_us)
        print(f"Keyward / {peer_name}: {ratio:.2f} of the request median (target ≤ {target:.2f}: "
              f"{verdict(ratio, target)}); {added:.2f} of the time added over no auth")
    print(f"Keyward SQL per request: {keyward.queries:.2f} (target ≤ 1). `last_used_at` is written at "
          f"most once per TOKEN_LAST_USED_INTERVAL_SECONDS per token: the warm-up did it, so the\n"
          f"timed rounds of a run shorter than that interval write nothing (one write a minute per token).")


def describe_database(*names):
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
            version = "PostgreSQL " + cursor.fetchone()[0].split()[0]
        else:
            version = connection.vendor
    databases = " and ".join(names or [connection.settings_dict["NAME"]])
    checks = "on" if connection.settings_dict.get("CONN_HEALTH_CHECKS") else "off"
    return f"{version} ({databases}), connection health checks {checks}"


# --- Modes ---------------------------------------------------------------------------


def run_peers(args):
    headers = seed(args.tokens)
    handler = WSGIHandler()
    endpoints = [Endpoint(name, path, headers[name]) for name, path, _auth, _perms in ROWS]
    print(f"\n{describe_database()}; {args.tokens:,} stored filler tokens; "
          f"{args.rounds:,} interleaved rounds after {args.warmup:,} warm-up; in-process WSGIHandler\n")
    measure(handler, endpoints, rounds=args.rounds, warmup=args.warmup)
    results = [summarize(e, count_round_trips(handler, e, args.query_pass)) for e in endpoints]
    print_table(results, results[0], "no auth")
    print_targets({r.name: r for r in results})


def run_sizes(args):
    """The Keyward row against a small and a large table, interleaved, each in its own database."""
    keyward_name, keyward_path = ROWS[1][0], ROWS[1][1]
    small = Endpoint(f"Keyward, {args.tokens:,} tokens", keyward_path,
                     seed(args.tokens)[keyward_name])

    large_db = second_database(f"{connection.settings_dict['NAME']}_large")
    ensure_database(large_db.settings_dict)
    with using_database(large_db):
        call_command("migrate", interactive=False, verbosity=0)
        large = Endpoint(f"Keyward, {args.large_tokens:,} tokens", keyward_path,
                         seed(args.large_tokens)[keyward_name], database=large_db)

    handler = WSGIHandler()
    names = connection.settings_dict["NAME"], large_db.settings_dict["NAME"]
    print(f"\n{describe_database(*names)}; {args.rounds:,} interleaved rounds after "
          f"{args.warmup:,} warm-up; in-process WSGIHandler\n")
    measure(handler, [small, large], rounds=args.rounds, warmup=args.warmup)
    results = [summarize(e, count_round_trips(handler, e, args.query_pass)) for e in (small, large)]
    print_table(results, results[0], "small")
    ratio = results[1].median_us / results[0].median_us
    flat = "holds" if abs(ratio - 1) <= FLAT_WITHIN else "MISSED"
    print(f"\nlarge / small median: {ratio:.3f} (target flat within ±{FLAT_WITHIN:.0%}: {flat})")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.auth", description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=10_000,
                        help="stored personal tokens besides the measured ones (default 10,000)")
    parser.add_argument("--rounds", type=int, default=2_000, help="timed rounds (default 2,000)")
    parser.add_argument("--warmup", type=int, default=200, help="untimed rounds first (default 200)")
    parser.add_argument("--query-pass", type=int, default=50,
                        help="requests per row in the query-counting pass (default 50)")
    parser.add_argument("--compare-sizes", action="store_true",
                        help="measure only the Keyward row: --tokens stored in DATABASE_URL's database "
                        "against --large-tokens in a second one named <database>_large")
    parser.add_argument("--large-tokens", type=int, default=1_000_000,
                        help="stored tokens in the large database of --compare-sizes (default 1,000,000)")
    parser.add_argument("--allow-sqlite", action="store_true", help="measure on SQLite anyway")
    args = parser.parse_args(argv)

    prepare_database(args.allow_sqlite)
    if args.compare_sizes:
        if connection.vendor != "postgresql":
            sys.exit("--compare-sizes needs PostgreSQL (it creates a second database).")
        run_sizes(args)
    else:
        run_peers(args)


if __name__ == "__main__":
    main()
