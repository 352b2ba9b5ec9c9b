"""The database announces every change the credential cache depends on.

Triggers on every table a cached answer reads append one row to
`keyward_invalidation_log` per statement (the cache tags to drop), in the writer's own
transaction, and `pg_notify` a wake-up that is delivered at commit. Whoever writes — the
ORM, `QuerySet.update()`/`delete()`, cascades, django-oauth-toolkit, the admin, `psql`,
another service — the change is logged, so no code path can forget to announce it
(tokens.cache.invalidation applies the log in every process).

An UPDATE is logged only when a column other than the table's bookkeeping changed (the
last-used time and address, DOT's `updated`, the user's `last_login`, a credential's name):
those are written by requests or renames and must not churn the cache. Columns added later
count by default.

INSERTs are logged but wake nobody: a new row's id was never cached (ids are not reused and
unknown credentials are never stored), so it waits for the next poll.

PostgreSQL only: SQLite has no cache (nothing to announce to).
"""

from django.db import migrations

# table, tag prefix, columns whose change alone is not announced: bookkeeping that requests
# write (last use, DOT's `updated`, `last_login`) and what only describes a credential to
# people (its name), which no cached answer reads (tests/tokens/cache/test_census.py).
WATCHED = [
    ("tokens_accesstoken", "token", ["last_used_at", "last_used_ip", "updated", "name"]),
    ("tokens_apikey", "key", ["last_used_at", "last_used_ip", "name"]),
    ("tokens_application", "app", ["last_used_at", "updated", "name"]),
    ("accounts_membership", "member", []),
    ("accounts_user", "user", ["last_login"]),
    ("accounts_organization", "org", []),
    ("accounts_organizationgroup", "group", []),
    # An organization's policy rides along with its cached API keys: tagged by its organization.
    ("tokens_tokenpolicy", "org", [], "organization_id"),
]

CHANNEL = "keyward_invalidation"  # tokens.cache.invalidation listens here

FUNCTION = """
CREATE OR REPLACE FUNCTION keyward_log_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    prefix text := TG_ARGV[0];
    ignored text[] := string_to_array(TG_ARGV[1], ',');
    named_by text := TG_ARGV[2];  -- the column whose value the tag names
    tags text[];
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        tags := ARRAY['all'];
    ELSIF TG_OP = 'INSERT' THEN
        SELECT array_agg(DISTINCT prefix || ':' || (to_jsonb(n) ->> named_by)) INTO tags
        FROM keyward_new n;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(DISTINCT prefix || ':' || (to_jsonb(o) ->> named_by)) INTO tags
        FROM keyward_old o;
    ELSE
        -- The old versions of the rows whose announced columns changed.
        SELECT array_agg(DISTINCT prefix || ':' || (changed.row ->> named_by)) INTO tags
        FROM (
            SELECT to_jsonb(o) - ignored AS row FROM keyward_old o
            EXCEPT
            SELECT to_jsonb(n) - ignored FROM keyward_new n
        ) changed;
    END IF;
    IF tags IS NULL OR cardinality(tags) = 0 THEN
        RETURN NULL;
    END IF;
    IF cardinality(tags) > 5000 THEN
        tags := ARRAY['all'];  -- a bulk change: cheaper to drop everything than to list it
    END IF;
    INSERT INTO keyward_invalidation_log (tags) VALUES (tags);
    IF TG_OP <> 'INSERT' THEN
        PERFORM pg_notify('%(channel)s', '');
        -- The request that wrote it waits for every process to confirm (tokens.cache.propagation).
        PERFORM set_config('keyward.invalidation_xid', pg_current_xact_id()::text, false);
    END IF;
    RETURN NULL;
END
$$;
""" % {"channel": CHANNEL}

TABLES = """
CREATE TABLE keyward_invalidation_log (
    seq bigserial PRIMARY KEY,
    tags text[] NOT NULL,
    xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    logged_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX keyward_invalidation_log_xid ON keyward_invalidation_log (xid);
CREATE TABLE keyward_cache_receipt (
    process text PRIMARY KEY,
    snapshot pg_snapshot NOT NULL,
    applied_seq bigint NOT NULL,
    seen_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
"""


def _triggers(table, prefix, ignored, named_by="id"):
    args = f"'{prefix}', '{','.join(ignored)}', '{named_by}'"
    name = f"keyward_log_{table}"
    return f"""
CREATE TRIGGER {name}_ins AFTER INSERT ON {table} REFERENCING NEW TABLE AS keyward_new
    FOR EACH STATEMENT EXECUTE FUNCTION keyward_log_change({args});
CREATE TRIGGER {name}_upd AFTER UPDATE ON {table}
    REFERENCING OLD TABLE AS keyward_old NEW TABLE AS keyward_new
    FOR EACH STATEMENT EXECUTE FUNCTION keyward_log_change({args});
CREATE TRIGGER {name}_del AFTER DELETE ON {table} REFERENCING OLD TABLE AS keyward_old
    FOR EACH STATEMENT EXECUTE FUNCTION keyward_log_change({args});
CREATE TRIGGER {name}_trunc AFTER TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION keyward_log_change({args});
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(TABLES)
    schema_editor.execute(FUNCTION)
    for table, prefix, ignored, *named_by in WATCHED:
        schema_editor.execute(_triggers(table, prefix, ignored, *named_by))


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, *_rest in WATCHED:
        for suffix in ("ins", "upd", "del", "trunc"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS keyward_log_{table}_{suffix} ON {table}")
    schema_editor.execute("DROP FUNCTION IF EXISTS keyward_log_change()")
    schema_editor.execute("DROP TABLE IF EXISTS keyward_invalidation_log, keyward_cache_receipt")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_throttle_counter"),
        ("tokens", "0010_review_items"),
    ]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
