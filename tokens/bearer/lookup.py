"""The bearer lookup: the hottest code in Keyward.

A digest finds the token, its membership, user and organization in one SQL
query, compiled by the ORM once per database alias and, on PostgreSQL,
prepared once per connection. It also stands in for Django's connection
health check, so a request pays one round trip.

On PostgreSQL the lookup can be sent as soon as a request arrives
(`prefetch`, from the request_started signal) and read when authentication
asks for it (`lookup`): the round trip then overlaps the work Django does
in between (building the request, the middleware, URL resolution, DRF's
set-up) instead of adding to it.
"""

import contextlib
import datetime
import select

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError
from django.db.backends.utils import CursorDebugWrapper

from ..limits.load import organization_has_limits_sql
from ..models import AccessToken

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
    import psycopg
    from psycopg import errors as pg_errors
    from psycopg import pq
    from psycopg.adapt import Transformer
except ImportError:  # psycopg is not installed: SQLite only
    psycopg = pq = None

_STATEMENT = b"keyward_bearer_lookup"
_BINARY = 1  # libpq's result format code for binary


class _LookupDebugWrapper(CursorDebugWrapper):
    def execute(self, sql, params=None):
        # A prepared statement leaves nothing for last_executed_query to read: log the SQL as sent.
        with self.debug_sql(sql, params):
            return self._execute_with_wrappers(sql, params, many=False, executor=self._execute)


def rows_of(queryset, *leading):
    """`queryset`'s tokens as `lookup` reads them: `leading` fields, then the lookup's columns,
    then whether the organization has limits (tokens.limits: the check is compiled only if so).
    The lookup's SQL is this, and the bench's memory mode fills the cache with such rows."""
    return queryset.annotate(limited=organization_has_limits_sql(AccessToken)).values_list(
        *leading, *_COLUMNS, "limited"
    )


def _lookup_sql(alias):
    """The lookup's SQL, compiled by the ORM once per database alias, then reused."""
    sql = _sql_by_alias.get(alias)
    if sql is None:
        query = rows_of(AccessToken.objects.filter(token_checksum="")).query
        sql, _params = query.get_compiler(using=alias).as_sql()
        _sql_by_alias[alias] = sql
    return sql


def _error(result):
    """The psycopg exception a failed libpq result stands for (Django translates it)."""
    if result is None:
        return pg_errors.OperationalError("the bearer lookup got no answer")
    state = result.error_field(pq.DiagnosticField.SQLSTATE)
    message = (result.error_message or b"the bearer lookup failed").decode("utf-8", "replace")
    try:
        cls = pg_errors.lookup(state.decode()) if state else pg_errors.OperationalError
    except KeyError:
        cls = pg_errors.DatabaseError
    return cls(message.strip())


def _wait(pgconn, events):
    """Block (without the GIL) until the connection's socket is ready."""
    poller = select.poll()
    poller.register(pgconn.socket, events)
    poller.poll()


class _DrainingLock:
    """Stands in for a psycopg connection's lock while a sent lookup is unread: whatever
    psycopg does next on that connection (a query, a commit, switching autocommit, a health
    check) first reads and drops the answer, so nothing ever finds the connection busy."""

    __slots__ = ("lock", "lookup")

    def __init__(self, lock, lookup):
        self.lock = lock
        self.lookup = lookup

    def __enter__(self):
        self.lookup.drop()
        return self.lock.__enter__()

    def __exit__(self, *exc_info):
        return self.lock.__exit__(*exc_info)

    def acquire(self, *args, **kwargs):
        self.lookup.drop()
        return self.lock.acquire(*args, **kwargs)

    def release(self):
        return self.lock.release()

    def locked(self):
        return self.lock.locked()


class _PreparedLookup:
    """The lookup on PostgreSQL, prepared once per connection: the 4-table join is parsed and
    planned once rather than on every request (planning alone was ~110 µs of a ~250 µs
    lookup), and results come in binary, read by psycopg's C loaders.

    It runs on the connection's libpq handle (psycopg's documented `pq` layer): psycopg's
    cursor around the same statement cost more Python than the server spends executing it,
    and psycopg's own prepared statements are dropped (`DEALLOCATE ALL`) after any rollback.
    Whenever something watches queries (DEBUG's query log, tests' query capture,
    `execute_wrapper` hooks) the same call runs inside Django's cursor wrapper, so it is seen
    and counted like any query, and nothing is sent ahead. Errors are psycopg's classes,
    translated into Django's.

    Django's own cursors never prepare (they keep poolers happy), so only this statement is
    affected; set DATABASE_PREPARED_STATEMENTS=false behind a pooler that cannot carry
    prepared statements. A statement the server has forgotten outside a transaction
    (`DISCARD ALL`) is prepared again.
    """

    __slots__ = ("raw", "sent", "sent_as_health_check", "sent_on", "transformer")

    def __init__(self):
        self.raw = None
        self.transformer = None
        self.sent = None  # the digest whose lookup was sent and not read yet
        self.sent_on = None  # … on this psycopg connection
        self.sent_as_health_check = False

    # --- asking and answering at once -----------------------------------------------

    def run(self, connection, sql, digest):
        connection.close_if_health_check_failed()
        connection.ensure_connection()
        connection.validate_thread_sharing()
        raw = connection.connection
        if connection.queries_logged or connection.execute_wrappers:
            cursor = _WatchedCursor(self, raw)
            wrapped = (
                _LookupDebugWrapper(cursor, connection)
                if connection.queries_logged
                else connection.make_cursor(cursor)
            )
            with wrapped:
                wrapped.execute(sql, [digest])
                return cursor.row
        with connection.wrap_database_errors:
            return self.execute(raw, sql, digest)

    def execute(self, raw, sql, digest):
        """The row for `digest`, or None (psycopg errors raised as such)."""
        with raw.lock:
            if self.raw is not raw:
                self._prepare(raw, sql)
            result = raw.pgconn.exec_prepared(_STATEMENT, [digest.encode()], None, _BINARY)
            return self._row(raw, sql, digest, result)

    def _row(self, raw, sql, digest, result):
        pgconn = raw.pgconn
        if (
            result is not None
            and result.status == pq.ExecStatus.FATAL_ERROR
            and result.error_field(pq.DiagnosticField.SQLSTATE) == b"26000"
            and pgconn.transaction_status == pq.TransactionStatus.IDLE
        ):  # the server forgot the statement (DISCARD ALL): prepare it once more
            self._prepare(raw, sql)
            result = pgconn.exec_prepared(_STATEMENT, [digest.encode()], None, _BINARY)
        if result is None or result.status != pq.ExecStatus.TUPLES_OK:
            raise _error(result)
        if not result.ntuples:
            return None
        self.transformer.set_pgresult(result)
        return self.transformer.load_row(0, tuple)

    def _prepare(self, raw, sql):
        self.raw = None
        result = raw.pgconn.prepare(_STATEMENT, sql.replace("%s", "$1").encode())
        if result.status != pq.ExecStatus.COMMAND_OK:
            raise _error(result)
        self.raw, self.transformer = raw, Transformer(raw)

    # --- asking now, reading later --------------------------------------------------

    def send(self, raw, sql, digest, as_health_check):
        """Send the lookup without waiting for its answer (psycopg errors raised as such)."""
        with raw.lock:
            if self.raw is not raw:
                self._prepare(raw, sql)
            pgconn = raw.pgconn
            pgconn.send_query_prepared(_STATEMENT, [digest.encode()], None, _BINARY)
            while pgconn.flush():
                _wait(pgconn, select.POLLOUT)
            self.sent, self.sent_on, self.sent_as_health_check = digest, raw, as_health_check
            raw.lock = _DrainingLock(raw.lock, self)

    def _receive(self):
        """The sent lookup's result; the connection gets its own lock back whatever happens."""
        raw = self.sent_on
        self.sent = self.sent_on = None
        if isinstance(raw.lock, _DrainingLock):
            raw.lock = raw.lock.lock
        with raw.lock:
            pgconn = raw.pgconn
            pgconn.consume_input()
            while pgconn.is_busy():
                _wait(pgconn, select.POLLIN)
                pgconn.consume_input()
            first = None
            while (result := pgconn.get_result()) is not None:
                if first is None:
                    first = result
            return raw, first

    def take(self, connection, sql, digest):
        """The row the sent lookup found (or None). If that lookup stood in for the health
        check and the connection turned out dead, a fresh connection asks again."""
        as_health_check = self.sent_as_health_check
        try:
            with connection.wrap_database_errors:
                raw, result = self._receive()
                with raw.lock:
                    return self._row(raw, sql, digest, result)
        except (OperationalError, InterfaceError):
            if not as_health_check:
                raise
            connection.close()
            return _run_lookup(connection, digest)

    def drop(self):
        """Read and forget a sent lookup's answer: somebody else needs the connection first.
        A broken connection is left for that somebody to meet."""
        if self.sent is None:
            return
        if self.sent_on.closed:
            self.sent_on.lock = getattr(self.sent_on.lock, "lock", self.sent_on.lock)
            self.sent = self.sent_on = None
            return
        with contextlib.suppress(psycopg.Error):
            self._receive()


class _WatchedCursor:
    """Just enough of a DB-API cursor for Django's wrappers to run the lookup through."""

    def __init__(self, lookup, raw):
        self.lookup, self.raw, self.row = lookup, raw, None

    def execute(self, sql, params):
        self.row = self.lookup.execute(self.raw, sql, params[0])

    def fetchone(self):
        return self.row

    def close(self):
        pass


def _prepared(connection):
    prepared = getattr(connection, "keyward_lookup", None)
    if prepared is None:
        prepared = connection.keyward_lookup = _PreparedLookup()
    return prepared


def _sends_prepared(connection):
    return connection.vendor == "postgresql" and settings.DATABASE_PREPARED_STATEMENTS


def _run_lookup(connection, digest):
    sql = _lookup_sql(connection.alias)
    if not _sends_prepared(connection):
        with connection.cursor() as cursor:
            cursor.execute(sql, [digest])
            return cursor.fetchone()
    return _prepared(connection).run(connection, sql, digest)


def _stands_in_for_health_check(connection):
    return (
        connection.health_check_enabled
        and not connection.health_check_done
        and connection.connection is not None
        and not connection.in_atomic_block
    )


def prefetch(connection, digest):
    """Send the lookup for `digest` now; `lookup` reads the answer when authentication asks.

    Only on PostgreSQL with prepared statements, on a connection already open (a database
    that is down is met once, by `lookup`, not twice), and only while nothing watches queries
    (a watched lookup must be seen as it runs). Never raises: on any trouble nothing is sent,
    and `lookup` asks the usual way and meets the trouble itself. Returns whether it sent.
    """
    if (
        connection.connection is None
        or not _sends_prepared(connection)
        or connection.queries_logged
        or connection.execute_wrappers
    ):
        return False
    prepared = _prepared(connection)
    prepared.drop()
    as_health_check = _stands_in_for_health_check(connection)
    try:
        connection.validate_thread_sharing()
        prepared.send(connection.connection, _lookup_sql(connection.alias), digest, as_health_check)
    except (DatabaseError, psycopg.Error):
        return False
    if as_health_check:
        connection.health_check_done = True
    return True


def drop_unread(connection):
    """Forget a sent lookup nobody read (the request ended before authenticating)."""
    prepared = getattr(connection, "keyward_lookup", None)
    if prepared is not None:
        prepared.drop()


def lookup(connection, digest):
    """Run the lookup, letting it stand in for Django's per-request connection health check.

    With CONN_HEALTH_CHECKS Django sends `SELECT 1` before a request's first query: a
    second round trip on the hottest path. Here the lookup itself is the check: if a
    persistent connection turns out dead, it is closed and the lookup runs once more on
    a fresh one, which is all the health check would have done.
    """
    prepared = getattr(connection, "keyward_lookup", None)
    if prepared is not None and prepared.sent is not None:
        if prepared.sent == digest and prepared.sent_on is connection.connection:
            return prepared.take(connection, _lookup_sql(connection.alias), digest)
        prepared.drop()
    if not _stands_in_for_health_check(connection):
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
