"""Limits on the warm path (`make bench BENCH_ARGS="limits"`): a token with a rate limit, credits
and an allowlist side by side with one without, interleaved through the same view, with what
the limits add (target ≤ 5 µs) and the SQL they cost per request (target 0; a credit lease is
one UPDATE per up to 10,000 requests and is counted apart)."""

from django.db import connections

from accounts.models import Organization
from bench.auth import (
    Endpoint,
    listening,
    measure,
    paired_added_us,
    print_table,
    seed,
    summarize,
    verdict,
)
from portal.handlers import WSGIHandler
from tokens.limits import credits as credit_leases
from tokens.limits import services as limits
from tokens.models import AccessToken, Limits
from tokens.personal import services as personal

LIMITS_US = 5.0  # what a rate limit, credits and an allowlist together may add (DESIGN.md)
PLAIN = "Keyward warm, no limits"
LIMITED = "Keyward warm, rate limit + credits + allowlist"
NAME = "bench limited"


def _remove_limited(membership):
    """The limited token and its limits row. Left behind, that row gives the bench organization
    limits, so every cache fill there (the peers' cold row, in the next `make bench`) would ask
    for them in a second query."""
    ids = list(
        AccessToken.objects.filter(name=NAME, membership=membership).values_list("pk", flat=True)
    )
    Limits.objects.filter(credential_kind="personal", credential_id__in=ids).delete()
    AccessToken.objects.filter(pk__in=ids).delete()


def _limited_token(membership):
    """A token whose limits never refuse the bench (a huge limit and balance, 127.0.0.0/8)."""
    _remove_limited(membership)
    issued = personal.issue_personal_token(issuer=membership, name=NAME, scopes=["read.me"])
    values = limits.clean(
        {
            "rate_limits": [{"name": "bench", "limit": 10**9, "window_seconds": 60}],
            "credits": {"remaining": 10**15},
            "allowlist": {"ranges": ["127.0.0.0/8", "::1/128"]},
        }
    )
    limits.set_limits(
        organization=membership.organization,
        credential=issued.credential,
        kind="personal",
        values=values,
        by=None,
        ip="127.0.0.1",
    )
    return issued.secret.reveal()


def _count(handler, endpoint, requests):
    """(SQL per request besides leases, cache fills' limits and last-used writes, leases per request)."""
    counts = {"sql": 0, "lease": 0}

    def count_sql(execute, sql, params, many, context):
        if sql.lstrip().startswith("WITH current AS"):
            counts["lease"] += 1
        elif '"tokens_limits"' in sql:
            pass  # compiling the check when the credential enters the cache (TTL refills)
        elif not (sql.startswith("UPDATE") and "last_used_at" in sql):
            counts["sql"] += 1
        return execute(sql, params, many, context)

    with connections["default"].execute_wrapper(count_sql):
        for _ in range(requests):
            endpoint.call(handler)
    return counts["sql"] / requests, counts["lease"] / requests


def run(args):
    headers = seed(args.tokens)
    membership = AccessToken.objects.get(name="bench keyward").membership
    # The bench organization is left without limits, as every other mode measures it: with
    # limits, each of its cache fills (the peers' cold row) asks for them in a second query.
    bench_limits = Limits.objects.filter(organization=Organization.objects.get(slug="bench"))
    bench_limits.delete()
    limited = _limited_token(membership)
    try:
        _measure(args, headers, limited)
    finally:
        bench_limits.delete()
        _remove_limited(membership)


def _measure(args, headers, limited):
    listening()
    handler = WSGIHandler()
    from bench.urls import KEYWARD_WARM

    endpoints = [
        Endpoint(PLAIN, "keyward/", headers[KEYWARD_WARM]),
        Endpoint(LIMITED, "keyward/", f"Bearer {limited}"),
    ]
    print(
        f"\n== Limits on the warm path: {args.rounds:,} interleaved rounds after "
        f"{args.warmup:,} warm-up; WSGIHandler\n"
    )
    measure(handler, endpoints, rounds=args.rounds, warmup=args.warmup)
    passes = max(args.query_pass, 20_000)  # leases are rare: count over enough requests
    counted = {e.name: _count(handler, e, passes) for e in endpoints}
    results = [summarize(e, (counted[e.name][0], 0.0, 0.0)) for e in endpoints]
    print_table(results, results[0], "no limits")
    added = paired_added_us(endpoints[1], endpoints[0])
    sql, leases = counted[LIMITED]
    sql_added = sql - counted[PLAIN][0]  # a cache refill (TTL) costs both rows alike
    print()
    print(
        f"[{verdict(added <= LIMITS_US)}] limits: {added:+.1f} µs per warm request with a rate "
        f"limit, credits and an allowlist (median of paired differences; target ≤ "
        f"{LIMITS_US:.0f})"
    )
    print(
        # A refill after CREDENTIAL_CACHE_TTL_SECONDS may land in either row's counting pass.
        f"[{verdict(sql_added < 0.001)}] limits: {sql_added:+.4f} SQL per request added (target 0, "
        "a cache refill per TTL aside); "
        f"credit leases "
        f"{leases * 1000:.2f} per 1,000 requests (at most one per {credit_leases.LEASE_MAX:,})"
    )
