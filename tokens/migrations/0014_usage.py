"""Usage counts (tokens.models.usage). On PostgreSQL the minute table is partitioned by day
(declarative range partitioning on `bucket`): retention drops a whole day's partition instead of
deleting rows one by one. Partitions are made ahead by the scheduler and, for a day it has not
made yet, by the flush itself (tokens.usage.storage). SQLite (`make run`) keeps a plain table."""

from django.db import migrations, models


def create_minute_table(apps, schema_editor):
    model = apps.get_model("tokens", "UsageMinute")
    if schema_editor.connection.vendor != "postgresql":
        schema_editor.create_model(model)
        return
    schema_editor.execute(
        """
        CREATE TABLE tokens_usageminute (
            bucket timestamp with time zone NOT NULL,
            credential_kind varchar(16) NOT NULL,
            credential_id bigint NOT NULL,
            organization_id bigint NOT NULL,
            operation varchar(200) NOT NULL,
            status smallint NOT NULL CHECK (status >= 0),
            scope varchar(200) NOT NULL,
            client_ip varchar(45) NOT NULL,
            previous_secret boolean NOT NULL,
            count bigint NOT NULL,
            PRIMARY KEY (credential_kind, credential_id, bucket, operation, status, scope,
                         client_ip, previous_secret)
        ) PARTITION BY RANGE (bucket)
        """
    )
    schema_editor.execute(
        "CREATE INDEX usage_minute_org ON tokens_usageminute (organization_id, bucket)"
    )


def drop_minute_table(apps, schema_editor):
    schema_editor.execute("DROP TABLE tokens_usageminute")


class Migration(migrations.Migration):
    dependencies = [
        ("tokens", "0012_policy_require_jwt_exp"),
    ]

    operations = [
        migrations.CreateModel(
            name="UsageRollup",
            fields=[
                ("level", models.CharField(max_length=8, primary_key=True, serialize=False)),
                ("done_until", models.DateTimeField()),
            ],
        ),
        migrations.CreateModel(
            name="UsageDay",
            fields=[
                ("bucket", models.DateTimeField()),
                ("credential_kind", models.CharField(max_length=16)),
                ("credential_id", models.BigIntegerField()),
                ("organization_id", models.BigIntegerField()),
                ("operation", models.CharField(max_length=200)),
                ("status", models.PositiveSmallIntegerField()),
                ("scope", models.CharField(blank=True, max_length=200)),
                ("client_ip", models.CharField(blank=True, max_length=45)),
                ("previous_secret", models.BooleanField(default=False)),
                ("count", models.BigIntegerField()),
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "credential_kind",
                        "credential_id",
                        "bucket",
                        "operation",
                        "status",
                        "scope",
                        "client_ip",
                        "previous_secret",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(fields=["organization_id", "bucket"], name="usage_day_org")
                ],
            },
        ),
        migrations.CreateModel(
            name="UsageHour",
            fields=[
                ("bucket", models.DateTimeField()),
                ("credential_kind", models.CharField(max_length=16)),
                ("credential_id", models.BigIntegerField()),
                ("organization_id", models.BigIntegerField()),
                ("operation", models.CharField(max_length=200)),
                ("status", models.PositiveSmallIntegerField()),
                ("scope", models.CharField(blank=True, max_length=200)),
                ("client_ip", models.CharField(blank=True, max_length=45)),
                ("previous_secret", models.BooleanField(default=False)),
                ("count", models.BigIntegerField()),
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "credential_kind",
                        "credential_id",
                        "bucket",
                        "operation",
                        "status",
                        "scope",
                        "client_ip",
                        "previous_secret",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(fields=["organization_id", "bucket"], name="usage_hour_org")
                ],
            },
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="UsageMinute",
                    fields=[
                        ("bucket", models.DateTimeField()),
                        ("credential_kind", models.CharField(max_length=16)),
                        ("credential_id", models.BigIntegerField()),
                        ("organization_id", models.BigIntegerField()),
                        ("operation", models.CharField(max_length=200)),
                        ("status", models.PositiveSmallIntegerField()),
                        ("scope", models.CharField(blank=True, max_length=200)),
                        ("client_ip", models.CharField(blank=True, max_length=45)),
                        ("previous_secret", models.BooleanField(default=False)),
                        ("count", models.BigIntegerField()),
                        (
                            "pk",
                            models.CompositePrimaryKey(
                                "credential_kind",
                                "credential_id",
                                "bucket",
                                "operation",
                                "status",
                                "scope",
                                "client_ip",
                                "previous_secret",
                                blank=True,
                                editable=False,
                                primary_key=True,
                                serialize=False,
                            ),
                        ),
                    ],
                    options={
                        "indexes": [
                            models.Index(
                                fields=["organization_id", "bucket"], name="usage_minute_org"
                            )
                        ],
                    },
                ),
            ],
        ),
        migrations.RunPython(create_minute_table, drop_minute_table),
    ]
