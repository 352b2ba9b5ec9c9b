"""The check itself, with the clock given: the sliding window over fixed cells, a process's
share between syncs, credits leased from PostgreSQL (and refilled at a period's start), and the
convergence of counts through PostgreSQL and through Redis."""

import datetime as dt
from types import SimpleNamespace

import pytest
import redis

from tests.conftest import TEST_REDIS_URL, require_redis
from tests.factories import issue
from tokens.limits import check, credits, load, services, sync
from tokens.models import CreditBalance, LimitNotice, RateLimitCell

pytestmark = pytest.mark.django_db

T0 = 1_800_000_000  # a cell boundary for 60 s windows (divisible by 60)


def _window(limit=10, width=60, cost=1):
    return check.window("personal:1", "burst", limit, width, cost, None)


def _admitted(w, now, n):
    return [w.admit(now) >= 0 for _ in range(n)]


def test_a_window_admits_its_limit_then_refuses_with_the_time_to_wait():
    w = _window(limit=3)
    assert [w.admit(T0 + 1) for _ in range(4)] == [2, 1, 0, -1]
    assert w.wait(T0 + 1) == 59


def test_the_previous_cell_counts_as_much_as_the_window_still_covers_it():
    w = _window(limit=10)
    assert all(_admitted(w, T0 + 59, 10))
    # 15 s into the next cell, 3/4 of the previous one is still in the window: 7.5 of 10 used.
    assert _admitted(w, T0 + 75, 3) == [True, True, False]
    # Half way, 5 of the previous and 2 of the current: 3 more.
    assert _admitted(w, T0 + 90, 4) == [True, True, True, False]


def test_the_ratelimit_header_counts_whole_seconds_down_to_the_cells_end(monkeypatch):
    """`t` (draft-ietf-httpapi-ratelimit-headers) is worked out once a second: it must move
    when the clock crosses a second or a cell, and when the clock steps back."""
    clock = SimpleNamespace(time=None)
    monkeypatch.setattr(check, "time", clock)
    limited = check.Check(windows=[_window(limit=100)])

    def state_at(moment):
        clock.time = lambda: moment
        meta = {}
        limited(meta)
        return meta[check.HEADERS][1][1]

    assert state_at(T0 + 0.5) == '"burst";r=99;t=60'
    assert state_at(T0 + 0.9) == '"burst";r=98;t=60'
    assert state_at(T0 + 1.0) == '"burst";r=97;t=59'
    assert state_at(T0 + 30.5) == '"burst";r=96;t=30'
    assert state_at(T0 + 29.2) == '"burst";r=95;t=31'  # the clock stepped back a second
    assert state_at(T0 + 59.99) == '"burst";r=94;t=1'
    # The next cell: the previous one's 6 count in full at its very start (100 - 6 - 1 left).
    assert state_at(T0 + 60) == '"burst";r=93;t=60'
    # Half way through it, half of them: 100 - 3 - 1 (this cell's first) - 1.
    assert state_at(T0 + 90) == '"burst";r=95;t=30'


def test_a_cost_counts_per_request():
    w = _window(limit=10, cost=4)
    assert _admitted(w, T0, 3) == [True, True, False]


def test_between_syncs_a_process_admits_only_its_share(monkeypatch):
    monkeypatch.setitem(sync._state, "processes", 4)
    w = _window(limit=100)
    assert sum(_admitted(w, T0 + 1, 50)) == 25
    assert w.wait(T0 + 1) == 1  # until the next sync


def _cells_of_another_process(w, n):
    RateLimitCell.objects.create(
        key=f"{w.key}:{w.name}",
        window=w.cell.start,
        process="elsewhere",
        count=n,
        expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5),
    )


def test_counts_converge_through_postgresql(settings):
    settings.REDIS_URL = ""
    w = _window(limit=10)
    assert all(_admitted(w, T0 + 1, 3))
    sync.sync_windows(T0 + 1)
    assert RateLimitCell.objects.get(key="personal:1:burst", window=T0).count == 3
    _cells_of_another_process(w, 6)
    sync.sync_windows(T0 + 2)
    assert w.cell.total == 9
    assert _admitted(w, T0 + 2, 2) == [True, False]


def test_a_round_written_twice_counts_once(settings):
    settings.REDIS_URL = ""
    w = _window(limit=10)
    assert all(_admitted(w, T0 + 1, 3))
    sync.sync_windows(T0 + 1)
    sync.sync_windows(T0 + 1)
    assert w.cell.total == 3


def test_counts_converge_through_redis(settings):
    require_redis()
    settings.REDIS_URL = TEST_REDIS_URL
    store = redis.Redis.from_url(TEST_REDIS_URL)
    store.flushdb()
    try:
        w = _window(limit=10)
        assert all(_admitted(w, T0 + 1, 3))
        sync.sync_windows(T0 + 1)
        assert int(store.hget(f"kw:rl:personal:1:burst:{T0}", sync.process_name())) == 3
        store.hset(f"kw:rl:personal:1:burst:{T0}", "elsewhere", 6)
        sync.sync_windows(T0 + 2)
        assert w.cell.total == 9
        assert _admitted(w, T0 + 2, 2) == [True, False]
    finally:
        store.flushdb()


def _credits(dev, alice, org, remaining, refill=None):
    token, _ = issue(dev)
    values = services.clean({"credits": {"remaining": remaining, "refill": refill}})
    row = services.set_limits(
        organization=org, credential=token, kind="personal", values=values, by=alice, ip=None
    )
    return row, load.compile_for("personal", token.pk, org.pk)


def test_credits_are_leased_never_beyond_the_balance(dev, alice, org):
    row, compiled = _credits(dev, alice, org, 250)
    now = T0
    admitted = sum(compiled.credits.spend(now) for _ in range(300))
    assert admitted == 250
    assert CreditBalance.objects.get(limits=row).remaining == 0


def test_credits_refill_at_the_periods_start(dev, alice, org):
    moment = dt.datetime(2026, 3, 5, 23, 59, 58, tzinfo=dt.UTC).timestamp()
    row, compiled = _credits(dev, alice, org, 2, {"amount": 5, "interval": "daily"})
    CreditBalance.objects.filter(limits=row).update(
        period_start=dt.datetime(2026, 3, 5, tzinfo=dt.UTC)
    )
    spend = compiled.credits.spend
    assert [spend(moment) for _ in range(3)] == [True, True, False]
    assert compiled.credits.wait(moment) == 2  # seconds until midnight
    after = moment + 3  # the clock moves past midnight: the balance is replaced by the refill
    assert [spend(after) for _ in range(6)] == [True] * 5 + [False]
    balance = CreditBalance.objects.get(limits=row)
    assert balance.period_start == dt.datetime(2026, 3, 6, tzinfo=dt.UTC)
    assert balance.remaining == 0


def test_unspent_leases_are_given_back(dev, alice, org):
    row, compiled = _credits(dev, alice, org, 1000)
    assert compiled.credits.spend(T0) and compiled.credits.spend(T0)  # a lease of one, then more
    assert CreditBalance.objects.get(limits=row).remaining < 998
    credits.give_back([compiled.credits])
    assert CreditBalance.objects.get(limits=row).remaining == 998


def test_credits_low_is_announced_once_per_threshold(dev, alice, org, mailoutbox):
    row, compiled = _credits(dev, alice, org, 10)
    for _ in range(10):
        compiled.credits.spend(T0)
    for _ in range(2):
        sync.send_notices()
        for threshold in ("80", "90", "100"):
            sync.notice(row.pk, "credential.credits_low", threshold, 0)
    sync.send_notices()
    assert sorted(LimitNotice.objects.values_list("key", flat=True)) == ["100", "80", "90"]


def test_rate_limited_is_noticed_once_per_window(dev, alice, org):
    token, _ = issue(dev)
    values = services.clean({"rate_limits": [{"name": "burst", "limit": 1, "window_seconds": 60}]})
    services.set_limits(
        organization=org, credential=token, kind="personal", values=values, by=alice, ip=None
    )
    compiled = load.compile_for("personal", token.pk, org.pk)
    w = compiled.windows[0]
    w.admit(T0)
    for _ in range(3):
        assert w.admit(T0 + 1) < 0
        check._notice_rate_limited(w)
    sync.send_notices()
    notices = list(LimitNotice.objects.values_list("event", "key"))
    assert notices == [("credential.rate_limited", f"personal:{token.pk}:burst")]
