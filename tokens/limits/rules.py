"""What a limits body may say, and the calendar of refills. Every refusal is a `Refused` with a
code and a sentence, so bad input is a 400 in the API and a field error in the portal."""

import calendar
import datetime as dt
import ipaddress
import re

from accounts.errors import Refused

MAX_RATE_LIMITS = 10
MAX_RANGES = 50
MAX_LIMIT = 1_000_000_000
MAX_WINDOW_SECONDS = 31 * 86400
MAX_CREDITS = 10**15
INTERVALS = ("daily", "monthly")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,39}$")


def _integer(value, field, *, minimum, maximum):
    # bool is an int in Python; `true` is not a number here.
    if isinstance(value, bool) or not isinstance(value, int):
        raise Refused("invalid_number", f"{field} must be a whole number.", field)
    if not minimum <= value <= maximum:
        raise Refused(
            "number_out_of_range", f"{field} must be between {minimum} and {maximum}.", field
        )
    return value


def _listed(value, code, message, field):
    """`value` as a list ([] for null), or refused with `code`."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise Refused(code, message, field)
    return value


def clean_rate_limits(value):
    """[{"name", "limit", "window_seconds", "cost"}]: names unique, numbers in range."""
    value = _listed(value, "invalid_rate_limits", "rateLimits must be a list.", "rate_limits")
    if len(value) > MAX_RATE_LIMITS:
        raise Refused(
            "too_many_rate_limits",
            f"A credential takes at most {MAX_RATE_LIMITS} rate limits.",
            "rate_limits",
        )
    cleaned, names = [], set()
    for item in value:
        if not isinstance(item, dict):
            raise Refused(
                "invalid_rate_limits", "Each rate limit must be an object.", "rate_limits"
            )
        name = item.get("name", "default")
        if not isinstance(name, str) or not _NAME.match(name):
            raise Refused(
                "invalid_rate_limit_name",
                "A rate limit's name is 1 to 40 lowercase letters, digits, '_', '.' or '-'.",
                "rate_limits",
            )
        if name in names:
            raise Refused(
                "duplicate_rate_limit", f"Two rate limits are named {name!r}.", "rate_limits"
            )
        names.add(name)
        limit = _integer(item.get("limit"), "limit", minimum=1, maximum=MAX_LIMIT)
        window = _integer(
            item.get("window_seconds"), "windowSeconds", minimum=1, maximum=MAX_WINDOW_SECONDS
        )
        cost = _integer(item.get("cost", 1), "cost", minimum=1, maximum=limit)
        cleaned.append({"name": name, "limit": limit, "window_seconds": window, "cost": cost})
    return cleaned


def clean_credits(credits, refill):
    """(credits, refill_amount, refill_interval, refill_day) from the body's two members."""
    if credits is None:
        if refill:
            raise Refused("refill_without_credits", "A refill needs credits to refill.", "refill")
        return None, None, "", None
    credits = _integer(credits, "credits", minimum=0, maximum=MAX_CREDITS)
    if not refill:
        return credits, None, "", None
    if not isinstance(refill, dict):
        raise Refused("invalid_refill", "refill must be an object.", "refill")
    amount = _integer(refill.get("amount"), "refill.amount", minimum=1, maximum=MAX_CREDITS)
    interval = refill.get("interval")
    if interval not in INTERVALS:
        raise Refused("invalid_refill", "refill.interval is daily or monthly.", "refill")
    day = refill.get("day_of_month")
    if interval == "monthly":
        day = _integer(1 if day is None else day, "refill.dayOfMonth", minimum=1, maximum=31)
    elif day is not None:
        raise Refused("invalid_refill", "refill.dayOfMonth is only for a monthly refill.", "refill")
    return credits, amount, interval, day


def parse_range(text):
    """One CIDR range (a bare address is its own /32 or /128); IPv4-mapped IPv6 is IPv4."""
    if not isinstance(text, str) or not 0 < len(text) <= 64:
        raise Refused("invalid_cidr", "An allowlist entry must be a CIDR range.", "allowlist")
    try:
        network = ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        raise Refused(
            "invalid_cidr",
            f"{text[:64]!r} is not an IPv4 or IPv6 range (such as 203.0.113.0/24 or 2001:db8::/32).",
            "allowlist",
        ) from None
    mapped = network.network_address.ipv4_mapped if network.version == 6 else None
    if mapped is not None and network.prefixlen >= 96:
        network = ipaddress.ip_network(f"{mapped}/{network.prefixlen - 96}", strict=False)
    return network


def clean_allowlist(value):
    value = _listed(value, "invalid_cidr", "allowlist must be a list of CIDR ranges.", "allowlist")
    if len(value) > 4 * MAX_RANGES:  # not even parsed: far beyond what folding could bring down
        raise Refused(
            "too_many_ranges", f"An allowlist takes at most {MAX_RANGES} ranges.", "allowlist"
        )
    seen = []
    for text in value:
        network = str(parse_range(text))
        if network not in seen:
            seen.append(network)
    if len(seen) > MAX_RANGES:
        raise Refused(
            "too_many_ranges", f"An allowlist takes at most {MAX_RANGES} ranges.", "allowlist"
        )
    return seen


def address(text):
    """A client address as the allowlist judges it (IPv4-mapped IPv6 as IPv4), or None."""
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if ip.version == 6 and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def allows(ranges, text):
    """Whether an address falls in one of `ranges` (strings); an unreadable address never does."""
    ip = address(text) if text else None
    if ip is None:
        return False
    return any(ip in ipaddress.ip_network(r) for r in ranges)


# --- The calendar of refills (UTC) ------------------------------------------------------


def _monthly(year, month, day):
    last = calendar.monthrange(year, month)[1]
    return dt.datetime(year, month, min(day, last), tzinfo=dt.UTC)


def period(interval, day, now):
    """(start, next start) of the refill period holding `now` (a UTC datetime)."""
    now = now.astimezone(dt.UTC)
    if interval == "daily":
        start = dt.datetime(now.year, now.month, now.day, tzinfo=dt.UTC)
        return start, start + dt.timedelta(days=1)
    start = _monthly(now.year, now.month, day)
    if now < start:
        year, month = (now.year - 1, 12) if now.month == 1 else (now.year, now.month - 1)
        start = _monthly(year, month, day)
    year, month = (start.year + 1, 1) if start.month == 12 else (start.year, start.month + 1)
    return start, _monthly(year, month, day)
