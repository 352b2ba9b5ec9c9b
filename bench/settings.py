"""Settings for `make bench`: Keyward's own, plus DRF's authtoken app as a peer to measure against."""

import os

# PostgreSQL by default: the targets are about the real database round trip.
os.environ.setdefault("DATABASE_URL", "postgres://keyward:keyward@127.0.0.1:5432/keyward_bench")
# `make bench` sets these; the defaults let `python -m bench.auth` run on its own too.
os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("ALLOWED_HOSTS", "localhost")

from portal.settings import *  # noqa: F403
from portal.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "rest_framework.authtoken"]
ROOT_URLCONF = "bench.urls"
# Quiet: every request of the warm-up would otherwise log nothing useful at INFO.
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
# The HTTP mode runs a second server with the peers' default configuration: no health checks.
if os.environ.get("BENCH_HEALTH_CHECKS", "true") == "false":
    from portal.settings import DATABASES

    DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
