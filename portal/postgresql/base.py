"""Django's PostgreSQL backend, with a connection health check that costs no round trip.

With CONN_HEALTH_CHECKS Django asks `is_usable()` before a request's first query, and the
stock backend answers it with `SELECT 1`: a second round trip for every request whose
credential came from memory and whose view then queries. Here a persistent connection is
judged from what is already on this machine: libpq's connection status, and the socket,
which has nothing to read between requests unless the server closed it or said something
(a terminated backend sends an error, then end-of-file). A connection found dead is closed
and replaced before the first query, exactly as after a failed `SELECT 1`. A connection
silently cut by the network is not seen here (nor, until its timeout, by `SELECT 1`); the
first query then fails as it would have anyway, and TCP keepalives bound how long.
"""

import select

from django.db.backends.postgresql import base
from psycopg import pq

_IDLE = (pq.TransactionStatus.IDLE, pq.TransactionStatus.INTRANS)


def socket_says_usable(raw):
    """Whether a psycopg connection looks alive, judged without sending anything."""
    if raw is None or raw.closed:
        return False
    pgconn = raw.pgconn
    if pgconn.status != pq.ConnStatus.OK or pgconn.transaction_status not in _IDLE:
        return False
    try:
        readable, _, _ = select.select([pgconn.socket], [], [], 0)
        if readable:  # unexpected: an error message, end-of-file, or a notice
            pgconn.consume_input()
            if pgconn.status != pq.ConnStatus.OK:
                return False
            readable, _, _ = select.select([pgconn.socket], [], [], 0)
            if readable:  # still more: end-of-file after the server's goodbye
                pgconn.consume_input()
    except Exception:  # psycopg.OperationalError, OSError: whatever it is, the connection is done
        return False
    return pgconn.status == pq.ConnStatus.OK


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self):
        """Django's health check, without `SELECT 1` (see the module's docstring)."""
        if getattr(self.connection, "lock", None) is not None and hasattr(
            self.connection.lock, "lookup"
        ):
            return super().is_usable()  # a bearer lookup sent ahead is unread: ask the old way
        return socket_says_usable(self.connection)
