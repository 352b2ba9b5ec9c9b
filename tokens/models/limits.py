"""Limits an admin sets on a credential, or on the organization for every credential without its
own: named rate limits, usage credits with a refill, and an IP allowlist (tokens.limits)."""

from django.db import models

from accounts.models import Organization


class Limits(models.Model):
    """One credential's limits (`credential_kind` and `credential_id`), or the organization's
    default (both empty). The table is watched by the invalidation triggers, tagged by its
    organization: a change drops the organization's cached credentials, which read it again."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    # personal, api_key or oauth_client ("" for the organization's default).
    credential_kind = models.CharField(max_length=16, blank=True)
    credential_id = models.BigIntegerField(null=True, blank=True)
    # [{"name": "burst", "limit": 100, "window_seconds": 60, "cost": 1}, ...]
    rate_limits = models.JSONField(default=list, blank=True)
    # Credits: None for none; the balance itself lives in CreditBalance (written per lease,
    # so it must not be in a watched table).
    credits = models.BigIntegerField(null=True, blank=True)
    refill_amount = models.BigIntegerField(null=True, blank=True)
    refill_interval = models.CharField(max_length=8, blank=True)  # "", daily, monthly
    refill_day = models.PositiveSmallIntegerField(null=True, blank=True)
    # CIDR strings, normalized ("10.0.0.0/8", "2001:db8::/32").
    allowlist = models.JSONField(default=list, blank=True)
    allowlist_report_only = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["credential_kind", "credential_id"],
                condition=models.Q(credential_id__isnull=False),
                name="one_limits_per_credential",
            ),
            models.UniqueConstraint(
                fields=["organization"],
                condition=models.Q(credential_id__isnull=True),
                name="one_default_limits_per_organization",
            ),
        ]

    def __str__(self):
        if self.credential_id is None:
            return f"Default limits of organization {self.organization_id}"
        return f"Limits of {self.credential_kind} {self.credential_id}"


class CreditBalance(models.Model):
    """What is left of a credential's credits in the current period. Workers take leases from
    it with one atomic UPDATE (tokens.limits.credits); it is not watched, since it changes
    on every lease."""

    limits = models.OneToOneField(
        Limits, on_delete=models.CASCADE, primary_key=True, related_name="balance"
    )
    remaining = models.BigIntegerField()
    # The balance the period started with (thresholds of credits_low are shares of it).
    period_credits = models.BigIntegerField()
    period_start = models.DateTimeField()

    def __str__(self):
        return f"{self.remaining} credit(s) left for limits {self.limits_id}"


class LimitNotice(models.Model):
    """A credits_low threshold or a rate_limited window announced once. The row is the claim:
    whoever inserts it announces, the unique constraint makes every other worker a no-op."""

    limits = models.ForeignKey(Limits, on_delete=models.CASCADE, related_name="+")
    event = models.CharField(max_length=40)
    key = models.CharField(max_length=100)  # the threshold ("80") or the limit's name
    period = models.BigIntegerField()  # the period's or window's start (epoch seconds)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["limits", "event", "key", "period"], name="one_limit_notice"
            )
        ]

    def __str__(self):
        return f"{self.event} {self.key} for limits {self.limits_id}"


class AllowlistReport(models.Model):
    """An address a report-only allowlist would have refused, and how often it came."""

    limits = models.ForeignKey(Limits, on_delete=models.CASCADE, related_name="reports")
    address = models.CharField(max_length=45)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    count = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["limits", "address"], name="one_report_per_address")
        ]

    def __str__(self):
        return f"{self.address} outside the allowlist of limits {self.limits_id}"


class RateLimitCell(models.Model):
    """One process's count in one fixed window of one rate limit (without Redis): processes
    add what they counted in batches and read everyone's sum back (tokens.limits.sync)."""

    key = models.CharField(max_length=120)
    window = models.BigIntegerField()  # the window's start, epoch seconds
    process = models.CharField(max_length=64)
    count = models.BigIntegerField()
    expires_at = models.DateTimeField()

    pk = models.CompositePrimaryKey("key", "window", "process")

    def __str__(self):
        return f"{self.key} at {self.window} by {self.process}: {self.count}"
