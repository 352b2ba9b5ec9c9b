"""The census: every column a cached answer reads, changed with raw SQL outside the
application, is reflected by every worker of a live deployment within the poll bound —
woken by NOTIFY, and with every NOTIFY lost (the servers poll only).

The columns come from the code that reads them (the bearer lookup's column list, the API
key's select_related query), not from a copy here; a column the triggers do not announce
must be named below with the reason. "Reflected" means the worker no longer answers from
memory: its next request is read from the database again (a cache miss), which sees the
change, whatever the change does to the answer.
"""

import base64
import importlib
import time

import pytest
from django.db import connection, models
from django.db.models.expressions import Col

from accounts.models import Membership, Organization, OrganizationGroup, User
from bench.live import Server, database_url
from tests.factories import issue, make_api_key, make_client, make_member
from tokens.api_keys.authentication import cached_keys
from tokens.bearer import lookup as bearer_lookup
from tokens.models import AccessToken, ApiKey, Application, TokenPolicy

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

BOUND = 1.5  # seconds: the poll interval (1 s) plus a read's worth of slack

# Columns whose change alone is not announced, and why (the migration's list must match).
NOT_ANNOUNCED = {
    "id": "a row's identity: changing it is a delete and an insert (foreign keys forbid it), and "
    "the DELETE trigger announces a row that goes",
    "last_used_at": "bookkeeping that requests write; each cached entry keeps its own copy",
    "last_used_ip": "bookkeeping that requests write",
    "last_login": "bookkeeping that every portal login writes; no credential decision reads it",
    "name": "a credential's name describes it to people; no credential decision reads it",
    "updated": "django-oauth-toolkit's modification time, written with every save",
}

_migration = importlib.import_module("tokens.migrations.0011_invalidation_log")
_IGNORED = {table: set(ignored) for table, _prefix, ignored, *_named_by in _migration.WATCHED}


def _column(model, path):
    field = None
    for part in path.split("__"):
        field = model._meta.get_field(part)
        if field.is_relation and part != path.split("__")[-1]:
            model = field.related_model
    return field


def bearer_columns():
    """(field) for each column of the bearer lookup, as the lookup itself names them."""
    return [_column(AccessToken, path) for path in bearer_lookup._COLUMNS]


def api_key_columns():
    """(field) for each column the API key's cached row holds: its own query's select list,
    annotations included (the columns they read)."""
    query = cached_keys().query
    select, _klass_info, _annotations = query.get_compiler(using="default").get_select()
    fields = []
    for expression, _sql, _alias in select:
        for column in _columns_in(expression):
            fields.append(column.target)
    return fields


def _columns_in(expression):
    if isinstance(expression, Col):
        return [expression]
    return [c for source in expression.get_source_expressions() for c in _columns_in(source)]


def _announced(field):
    table = field.model._meta.db_table
    if field.primary_key:
        return False
    return field.column not in _IGNORED.get(table, ())


def test_every_column_left_unannounced_is_named_with_its_reason():
    for fields in (bearer_columns(), api_key_columns()):
        for field in fields:
            if not _announced(field):
                assert field.column in NOT_ANNOUNCED, f"{field.model._meta.db_table}.{field.column}"


@pytest.fixture(scope="module", params=["notify", "poll-only"])
def servers(request, django_db_setup, django_db_blocker):
    """Two gunicorn servers (one worker each, so each one's cache can be watched)."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://…")
    extra = {"CREDENTIAL_INVALIDATION_LISTEN": "false"} if request.param == "poll-only" else {}
    url = database_url(connection.settings_dict)
    both = [Server(database_url=url, ttl=60, extra_env=extra) for _ in range(2)]
    yield both
    for server in both:
        server.stop()


def _mutation(field, other):
    """SQL for a value different from the current one, for any column type we store."""
    column = connection.ops.quote_name(field.column)
    if field.is_relation:
        target = other[field.related_model]
        if field.null:
            return f"CASE WHEN {column} IS NULL THEN {target} ELSE NULL END"
        return str(target)
    if field.choices:
        values = [value for value, _label in field.choices]
        return f"CASE WHEN {column} = %s THEN %s ELSE %s END", [values[0], values[1], values[0]]
    if isinstance(field, models.BooleanField):
        return f"NOT {column}"
    if isinstance(field, models.DateTimeField):
        return f"coalesce({column}, now()) - interval '1 day'"
    if isinstance(field, models.UUIDField):
        return "gen_random_uuid()"
    if isinstance(field, models.GenericIPAddressField):
        return f"CASE WHEN {column} = '192.0.2.1' THEN '192.0.2.2'::inet ELSE '192.0.2.1'::inet END"
    if isinstance(field, (models.CharField, models.TextField)):
        # Same length (columns have a maximum), another first character.
        value = f"coalesce({column}, '')"
        return f"CASE WHEN left({value}, 1) = 'y' THEN 'z' ELSE 'y' END || substr({value}, 2)"
    if isinstance(field, models.IntegerField):
        return f"{column} + 1"
    raise AssertionError(f"the census has no change for {field.model.__name__}.{field.name}")


def _change(field, row_id, other):
    sql = _mutation(field, other)
    params = []
    if isinstance(sql, tuple):
        sql, params = sql
    table = connection.ops.quote_name(field.model._meta.db_table)
    column = connection.ops.quote_name(field.column)
    with connection.cursor() as cursor:  # autocommit: committed at once, like psql
        cursor.execute(f"UPDATE {table} SET {column} = {sql} WHERE id = %s", [*params, row_id])
        assert cursor.rowcount == 1


def _reflected_within(servers, authorization, misses, started):
    for server, before in zip(servers, misses, strict=True):
        while server.misses() == before:
            server.get("/api/v1/me", authorization)
            if server.misses() > before:
                break
            assert time.monotonic() - started < BOUND + 1, "still answered from memory"
        assert time.monotonic() - started <= BOUND + 0.5


def _ids_of(field, token=None, key=None):
    model = field.model
    if model is AccessToken:
        return token.pk
    if model is ApiKey:
        return key.pk
    source = token or key
    if model is TokenPolicy:
        return TokenPolicy.objects.get(organization_id=source.organization_id).pk
    membership = Membership.objects.get(pk=source.membership_id)
    return {
        Membership: membership.pk,
        User: membership.user_id,
        Organization: source.organization_id,
    }[model]


def _others(other_org, owner):
    """Another row of each model a foreign key of ours may point to."""
    stranger = make_member(other_org, f"stranger{time.monotonic_ns()}@globex.test", "agent")
    application, _ = make_client(owner)
    group = OrganizationGroup.objects.create(name="Elsewhere", slug=f"g{time.monotonic_ns()}")
    return {
        Organization: other_org.pk,
        User: stranger.pk,
        Membership: Membership.objects.get(user=stranger).pk,
        Application: application.pk,
        OrganizationGroup: group.pk,
    }


@pytest.mark.parametrize(
    "field",
    [f for f in bearer_columns() if _announced(f)],
    ids=lambda f: f"{f.model._meta.db_table}.{f.column}",
)
def test_a_raw_change_to_a_bearer_column_is_reflected_by_every_worker(
    servers, field, dev, other_org
):
    token, secret = issue(dev, scopes=["read.me"])
    authorization = f"Bearer {secret}"
    for server in servers:
        server.warm(authorization)
    misses = [server.misses() for server in servers]
    started = time.monotonic()
    _change(field, _ids_of(field, token=token), _others(other_org, dev))
    _reflected_within(servers, authorization, misses, started)


@pytest.mark.parametrize(
    "field",
    [f for f in api_key_columns() if _announced(f)],
    ids=lambda f: f"{f.model._meta.db_table}.{f.column}",
)
def test_a_raw_change_to_an_api_key_column_is_reflected_by_every_worker(
    servers, field, alice, other_org
):
    key, secret = make_api_key(alice, scopes=["read.me"])
    TokenPolicy.objects.get_or_create(organization_id=key.organization_id)  # read with the key
    authorization = "Basic " + base64.b64encode(f"{key.key_id}:{secret}".encode()).decode()
    for server in servers:
        server.warm(authorization)
    misses = [server.misses() for server in servers]
    started = time.monotonic()
    _change(field, _ids_of(field, key=key), _others(other_org, alice))
    _reflected_within(servers, authorization, misses, started)
