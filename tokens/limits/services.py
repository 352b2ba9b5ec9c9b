"""Setting limits: the one writer of a credential's (or an organization's default) limits.
Audited, announced as `credential.limits_changed`; the database's triggers drop the cached
credentials of the organization, which compile their limits again on their next request."""

import datetime as dt

from django.db import connection, transaction
from django.db.models import Max, Sum
from django.utils import timezone

from accounts.errors import Refused

from .. import audit, lifecycle
from ..cache import invalidation
from ..models import AuditEvent, CredentialKind, CreditBalance, Limits, UsageHour, UsageMinute
from . import rules


def clean(body):
    """The values of a limits body (the API's snake_case, the portal form's alike), or Refused."""
    if not isinstance(body, dict):
        raise Refused("invalid", "The body must be a JSON object.")
    unknown = sorted(set(body) - {"rate_limits", "credits", "allowlist", "confirm_lockout"})
    if unknown:
        raise Refused("unknown_field", f"Unknown field(s): {', '.join(unknown)}.", unknown[0])
    credits = body.get("credits")
    if credits is not None and not isinstance(credits, dict):
        raise Refused("invalid_credits", "credits must be an object or null.", "credits")
    credits = credits or {}
    allowlist = body.get("allowlist") or {}
    if not isinstance(allowlist, dict):
        raise Refused("invalid_cidr", "allowlist must be an object with ranges.", "allowlist")
    report_only = allowlist.get("report_only", False)
    if not isinstance(report_only, bool):
        raise Refused("invalid", "allowlist.reportOnly must be true or false.", "allowlist")
    remaining, amount, interval, day = rules.clean_credits(
        credits.get("remaining"), credits.get("refill")
    )
    return {
        "rate_limits": rules.clean_rate_limits(body.get("rate_limits")),
        "credits": remaining,
        "refill_amount": amount,
        "refill_interval": interval,
        "refill_day": day,
        "allowlist": rules.clean_allowlist(allowlist.get("ranges")),
        "allowlist_report_only": report_only,
    }


def limits_of(*, organization_id, kind="", credential_id=None):
    """The stored limits of a credential (or the organization's default), or None."""
    rows = Limits.objects.select_related("balance").filter(organization_id=organization_id)
    if credential_id is None:
        return rows.filter(credential_id__isnull=True).first()
    return rows.filter(credential_kind=kind, credential_id=credential_id).first()


def locks_out(values, address):
    """Whether an enforced allowlist of `values` would refuse `address` (the admin's own)."""
    ranges = values["allowlist"]
    return (
        bool(ranges) and not values["allowlist_report_only"] and not rules.allows(ranges, address)
    )


def set_limits(*, organization, values, by, ip, credential=None, kind="", confirm_lockout=False):
    """Replace the limits of `credential` (of `kind`), or the organization's default without one.

    An enforced allowlist that would refuse `ip` (the address of whoever saves it) is refused
    with 409 `lockout` unless `confirm_lockout`."""
    if locks_out(values, ip) and not confirm_lockout:
        raise Refused(
            "lockout",
            f"This allowlist would refuse your own address ({ip or 'unknown'}). "
            "Add it, use report-only mode, or confirm (confirmLockout) to save it anyway.",
            "allowlist",
            status=409,
        )
    credential_id = credential.pk if credential is not None else None
    now = timezone.now()
    with transaction.atomic():
        rows = Limits.objects.select_for_update().filter(organization=organization)
        if credential is None:
            row = rows.filter(credential_id__isnull=True).first()
        else:
            row = rows.filter(credential_kind=kind, credential_id=credential_id).first()
        if row is None:
            row = Limits(
                organization=organization, credential_kind=kind, credential_id=credential_id
            )
        created = row.pk is None
        before = "none" if created else summary(row)
        for field, value in values.items():
            setattr(row, field, value)
        row.save()
        if created:
            _wake_caches()
        _reset_balance(row, now)
        after = summary(row)
        audit.record(
            action=AuditEvent.Action.LIMITS_CHANGED,
            credential=credential,
            organization=organization,
            kind=kind or CredentialKind.POLICY,
            actor=by,
            ip=ip,
            detail=f"limits: {before} → {after}",
        )
        payload = (
            lifecycle.credential_payload(credential, kind=kind)
            if credential is not None
            else {"credential": None}
        )
        payload["limits"] = public(row)
        lifecycle.emit(organization, "credential.limits_changed", payload)
    return row


def _wake_caches():
    """The triggers log an INSERT without waking anyone (a new credential was never cached), but
    new limits change what cached credentials of the organization must do: wake every process
    now, and let the request wait for their receipts, as the UPDATE trigger would."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_notify(%s, ''), "
            "set_config('keyward.invalidation_xid', pg_current_xact_id()::text, false)",
            [invalidation.CHANNEL],
        )


def _reset_balance(row, now):
    """Saving limits sets the balance to `credits` (an admin adding credits saves a new number)."""
    if row.credits is None:
        CreditBalance.objects.filter(limits=row).delete()
        return
    start = rules.period(row.refill_interval, row.refill_day, now)[0] if row.refill_amount else now
    CreditBalance.objects.update_or_create(
        limits=row,
        defaults={"remaining": row.credits, "period_credits": row.credits, "period_start": start},
    )


def summary(row):
    """One line for the audit log: what is limited, no more."""
    parts = [f"{len(row.rate_limits)} rate limit(s)"]
    if row.credits is not None:
        refill = f" +{row.refill_amount} {row.refill_interval}" if row.refill_amount else ""
        parts.append(f"{row.credits} credits{refill}")
    if row.allowlist:
        mode = " report-only" if row.allowlist_report_only else ""
        parts.append(f"{len(row.allowlist)} range(s){mode}")
    return ", ".join(parts)


def public(row, now=None):
    """The limits as the API shows them (snake_case; the renderer makes it camelCase)."""
    if row is None:
        return {
            "rate_limits": [],
            "credits": None,
            "allowlist": {"ranges": [], "report_only": False},
        }
    credits = None
    if row.credits is not None:
        balance = getattr(row, "balance", None) if row.pk else None
        refill = None
        next_refill = None
        if row.refill_amount:
            refill = {
                "amount": row.refill_amount,
                "interval": row.refill_interval,
                "day_of_month": row.refill_day,
            }
            next_refill = rules.period(row.refill_interval, row.refill_day, now or timezone.now())[
                1
            ]
        remaining = balance.remaining if balance is not None else row.credits
        if (
            balance is not None
            and row.refill_amount
            and balance.period_start
            < rules.period(row.refill_interval, row.refill_day, now or timezone.now())[0]
        ):
            remaining = (
                row.refill_amount
            )  # refilled at the period's start (taken at the next lease)
        credits = {"remaining": remaining, "refill": refill, "next_refill_at": next_refill}
    return {
        "rate_limits": row.rate_limits,
        "credits": credits,
        "allowlist": {"ranges": row.allowlist, "report_only": row.allowlist_report_only},
    }


def would_refuse(row, *, organization_id, kind, credential_ids, since):
    """Addresses of the usage data since `since` that the row's allowlist would refuse:
    [(address, requests, last seen)], busiest first; plus what report-only mode recorded."""
    if row is None or not row.allowlist:
        return []
    found = {}
    for model in (UsageMinute, UsageHour):
        rows = model.objects.filter(organization_id=organization_id, bucket__gte=since)
        if kind:
            rows = rows.filter(credential_kind=kind, credential_id__in=credential_ids)
        for address, n, last in rows.values_list("client_ip").annotate(
            n=Sum("count"), last=Max("bucket")
        ):
            if not address or rules.allows(row.allowlist, address):
                continue
            old = found.get(address)
            found[address] = (
                max(old[0], n) if old else n,
                max(old[1], last) if old else last,
            )
    for report in row.reports.filter(last_seen__gte=since):
        old = found.get(report.address)
        if old is None or report.last_seen > old[1]:
            found[report.address] = (max(report.count, old[0] if old else 0), report.last_seen)
    return sorted(
        ((a, n, last) for a, (n, last) in found.items()), key=lambda item: (-item[1], item[0])
    )[:50]


SEVEN_DAYS = dt.timedelta(days=7)
