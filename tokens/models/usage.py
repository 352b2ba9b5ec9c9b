"""Usage counts: requests per credential, bucket, operation, status, scope, address and secret.

Written only by each process's flush (`tokens.usage.counter`), one batched upsert at a time,
and by the scheduler's roll-ups; never once per request. Three tables of one shape, by bucket
size: minutes (kept 48 h; on PostgreSQL partitioned by day, so retention drops a partition),
hours (90 d) and days (400 d). Rows carry ids, operations and addresses, never a secret.
"""

from django.db import models

# One row per (credential, bucket, what was asked, how it went, from where); the flush's
# ON CONFLICT names the same columns (tokens.usage.storage).
KEY = (
    "credential_kind",
    "credential_id",
    "bucket",
    "operation",
    "status",
    "scope",
    "client_ip",
    "previous_secret",
)


class UsageCount(models.Model):
    # The bucket's start (UTC): a minute, an hour or a day.
    bucket = models.DateTimeField()
    # personal, login, oauth_client (an OAuth client counts its access tokens' traffic), api_key.
    credential_kind = models.CharField(max_length=16)
    credential_id = models.BigIntegerField()
    # Not a foreign key: counts are history, pruned by age, and the partitioned table keeps none.
    organization_id = models.BigIntegerField()
    # "GET /api/v1/tokens/{id}": the method and the route's template, never the concrete path.
    operation = models.CharField(max_length=200)
    status = models.PositiveSmallIntegerField()
    # The scopes the operation required and the credential held ("" when refused or none needed).
    scope = models.CharField(max_length=200, blank=True)
    client_ip = models.CharField(max_length=45, blank=True)
    # The previous secret of a rotation, during its overlap.
    previous_secret = models.BooleanField(default=False)
    count = models.BigIntegerField()

    pk = models.CompositePrimaryKey(*KEY)

    class Meta:
        abstract = True

    def __str__(self):
        return f"{self.credential_kind} {self.credential_id} at {self.bucket:%Y-%m-%dT%H:%M}: {self.count}"

    def __repr__(self):
        return f"<{type(self).__name__} {self}>"


class UsageMinute(UsageCount):
    class Meta:
        indexes = [models.Index(fields=["organization_id", "bucket"], name="usage_minute_org")]


class UsageHour(UsageCount):
    class Meta:
        indexes = [models.Index(fields=["organization_id", "bucket"], name="usage_hour_org")]


class UsageDay(UsageCount):
    class Meta:
        indexes = [models.Index(fields=["organization_id", "bucket"], name="usage_day_org")]


class UsageRollup(models.Model):
    """How far a roll-up has gone: `hour` rows are complete before `done_until` (and `day` rows
    likewise); reports read the finer table from there on."""

    level = models.CharField(max_length=8, primary_key=True)
    done_until = models.DateTimeField()

    def __str__(self):
        return f"{self.level} roll-up done until {self.done_until:%Y-%m-%dT%H:%M}"

    def __repr__(self):
        return f"<UsageRollup {self}>"


class RotationNotice(models.Model):
    """`credential.rotation_idle` announced for one overlap of one credential. The row is the
    claim: whoever inserts it announces, the unique constraint makes every other a no-op."""

    credential_kind = models.CharField(max_length=16)
    credential_id = models.BigIntegerField()
    # Which overlap: when its previous secret stops working (an API key rotates under one id).
    overlap_until = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["credential_kind", "credential_id", "overlap_until"],
                name="one_idle_notice_per_overlap",
            )
        ]

    def __str__(self):
        return f"rotation idle: {self.credential_kind} {self.credential_id}"
