"""The bearer lookup: the hottest code in Keyward.

A digest finds the token, its membership, user and organization in one SQL
query, compiled by the ORM once per database alias and, on PostgreSQL,
prepared once per connection. It also stands in for Django's connection
health check, so a request pays one round trip.
"""

import datetime

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.db.backends.utils import CursorDebugWrapper

from .models import AccessToken

_COLUMNS = (
    "id",
    "kind",
    "scope",
    "expires",
    "revoked_at",
    "last_used_at",
    "organization_id",
    "membership_id",
    "membership__organization_id",
    "membership__role",
    "membership__developer_access",
    "membership__user_id",
    "membership__user__email",
    "membership__user__is_active",
    "membership__user__is_service_account",
    "organization__group_id",
    "reach",
    "app_user_id",
    "application_id",
)
_sql_by_alias = {}

try:
    from django.db.backends.postgresql.base import ServerBindingCursor

    class _PreparingCursor(ServerBindingCursor):
        def execute(self, query, params=None, **kwargs):
            kwargs.setdefault("prepare", True)
            return super().execute(query, params, **kwargs)

except ImportError:  # psycopg is not installed: SQLite only
    _PreparingCursor = None


class _LookupDebugWrapper(CursorDebugWrapper):
    def execute(self, sql, params=None):
        # A prepared statement leaves nothing for last_executed_query to read: log the SQL as sent.
        with self.debug_sql(sql, params):
            return self._execute_with_wrappers(sql, params, many=False, executor=self._execute)


def _lookup_sql(alias):
    """The lookup's SQL, compiled by the ORM once per database alias, then reused."""
    sql = _sql_by_alias.get(alias)
    if sql is None:
        query = AccessToken.objects.filter(token_checksum="").values_list(*_COLUMNS).query
        sql, _params = query.get_compiler(using=alias).as_sql()
        _sql_by_alias[alias] = sql
    return sql


def _lookup_cursor(connection):
    """A cursor for the lookup. On PostgreSQL it is a server-binding cursor that prepares the
    statement, so the 4-table join is parsed and planned once per connection rather than on
    every request (planning alone was ~110 µs of a ~250 µs lookup). Django's own cursors never
    prepare (they keep poolers happy), so only this statement is affected; set
    DATABASE_PREPARED_STATEMENTS=false behind a pooler that cannot carry prepared statements.
    """
    if connection.vendor != "postgresql" or not settings.DATABASE_PREPARED_STATEMENTS:
        return connection.cursor()
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    with connection.wrap_database_errors:
        raw = _PreparingCursor(connection.connection)
    # Wrapped like any Django cursor: errors translated, and counted when queries are logged.
    return (
        _LookupDebugWrapper(raw, connection)
        if connection.queries_logged
        else connection.make_cursor(raw)
    )


def _run_lookup(connection, digest):
    with _lookup_cursor(connection) as cursor:
        cursor.execute(_lookup_sql(connection.alias), [digest])
        return cursor.fetchone()


def lookup(connection, digest):
    """Run the lookup, letting it stand in for Django's per-request connection health check.

    With CONN_HEALTH_CHECKS Django sends `SELECT 1` before a request's first query: a
    second round trip on the hottest path. Here the lookup itself is the check: if a
    persistent connection turns out dead, it is closed and the lookup runs once more on
    a fresh one, which is all the health check would have done.
    """
    checking = (
        connection.health_check_enabled
        and not connection.health_check_done
        and connection.connection is not None
        and not connection.in_atomic_block
    )
    if not checking:
        return _run_lookup(connection, digest)
    connection.health_check_done = True
    try:
        return _run_lookup(connection, digest)
    except (OperationalError, InterfaceError):
        connection.close()
        return _run_lookup(connection, digest)


def aware(value):
    # PostgreSQL answers aware datetimes; SQLite naive UTC ones (or text).
    if value is None or (isinstance(value, datetime.datetime) and value.tzinfo is not None):
        return value
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value)
    return value.replace(tzinfo=datetime.UTC)
