"""What a limits body may hold (ranges, numbers) and the refill calendar: plain functions."""

import datetime as dt

import pytest

from accounts.errors import Refused
from tokens.limits import rules


@pytest.mark.parametrize(
    "text,network",
    [
        ("203.0.113.7", "203.0.113.7/32"),
        ("203.0.113.7/24", "203.0.113.0/24"),
        ("2001:db8::1/32", "2001:db8::/32"),
        ("::ffff:203.0.113.0/120", "203.0.113.0/24"),
        ("::1", "::1/128"),
    ],
)
def test_a_range_is_normalized(text, network):
    assert str(rules.parse_range(text)) == network


@pytest.mark.parametrize("text", ["", "10.0.0.0/33", "256.1.1.1", "fe80::/129", "x" * 65, 7, None])
def test_a_bad_range_is_refused_with_invalid_cidr(text):
    with pytest.raises(Refused) as refused:
        rules.parse_range(text)
    assert refused.value.code == "invalid_cidr"


def test_more_than_fifty_ranges_are_refused():
    with pytest.raises(Refused) as refused:
        rules.clean_allowlist([f"10.0.{i}.0/24" for i in range(51)])
    assert refused.value.code == "too_many_ranges"


def test_fifty_ranges_are_taken_and_duplicates_folded():
    ranges = [f"10.0.{i}.0/24" for i in range(50)]
    assert rules.clean_allowlist([*ranges, "10.0.0.1/24"]) == ranges


@pytest.mark.parametrize(
    "address,allowed",
    [
        ("203.0.113.9", True),
        ("::ffff:203.0.113.9", True),  # IPv4-mapped IPv6 is judged as IPv4
        ("198.51.100.1", False),
        ("2001:db8::5", True),
        ("2001:db9::5", False),
        ("not-an-address", False),
        ("", False),
    ],
)
def test_an_address_is_judged_as_ipv4_when_it_is_mapped(address, allowed):
    assert rules.allows(["203.0.113.0/24", "2001:db8::/32"], address) is allowed


def test_a_cost_above_its_limit_is_refused():
    with pytest.raises(Refused) as refused:
        rules.clean_rate_limits([{"limit": 5, "window_seconds": 1, "cost": 6}])
    assert refused.value.code == "number_out_of_range"


def _utc(*args):
    return dt.datetime(*args, tzinfo=dt.UTC)


def test_a_daily_period_starts_at_midnight_utc():
    assert rules.period("daily", None, _utc(2026, 3, 5, 13, 30)) == (
        _utc(2026, 3, 5),
        _utc(2026, 3, 6),
    )


def test_a_monthly_period_starts_on_its_day():
    assert rules.period("monthly", 15, _utc(2026, 3, 20)) == (_utc(2026, 3, 15), _utc(2026, 4, 15))
    assert rules.period("monthly", 15, _utc(2026, 3, 2)) == (_utc(2026, 2, 15), _utc(2026, 3, 15))


def test_day_31_falls_on_a_short_months_last_day():
    assert rules.period("monthly", 31, _utc(2026, 2, 28, 1)) == (
        _utc(2026, 2, 28),
        _utc(2026, 3, 31),
    )
    assert rules.period("monthly", 31, _utc(2026, 1, 5)) == (_utc(2025, 12, 31), _utc(2026, 1, 31))
