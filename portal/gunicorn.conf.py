"""gunicorn's settings for Keyward in production: `gunicorn -c portal/gunicorn.conf.py portal.wsgi`.

Access logs name the path without its query string (`%(U)s`, never `%(r)s`, `%(q)s` or the
referer): Keyward never accepts a secret in a URL, but a client that puts one there anyway
must not have it written to a log file.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
accesslog = "-"
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s"'


def worker_exit(server, worker):
    """A worker stopping gracefully writes the usage it counted and had not flushed yet, and
    takes its propagation receipt with it: writes stop waiting for its confirmation at once,
    not only when its receipt grows old (tokens.cache.propagation)."""
    from tokens.cache import invalidation
    from tokens.usage import counter

    counter.flush()
    invalidation.stop_listener()
