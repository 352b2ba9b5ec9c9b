"""Live Keyward servers for the cache's cross-process tests (and the bench's propagation mode):
gunicorn processes against a given database, each with its own invalidation listener."""

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
METRICS_TOKEN = "live-test-metrics-token"  # the test servers' scrape secret


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url(settings_dict):
    return (
        f"postgres://{settings_dict['USER']}:{settings_dict['PASSWORD']}@{settings_dict['HOST'] or '127.0.0.1'}:"
        f"{settings_dict['PORT'] or 5432}/{settings_dict['NAME']}"
    )


def redis_reachable(url):
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping())
    except redis.RedisError:
        return False


def samples(text):
    """A Prometheus exposition's samples: `name{labels}` → value."""
    values = {}
    for line in text.splitlines():
        match = re.match(r"^([a-z_]+)(\{[^}]*\})? ([0-9.e+-]+)$", line)
        if match:
            values[match.group(1) + (match.group(2) or "")] = float(match.group(3))
    return values


class Server:
    """`gunicorn portal.wsgi` with `workers` sync workers on a free loopback port."""

    def __init__(
        self,
        *,
        database_url,
        redis_url="",
        workers=1,
        ttl=30,
        extra_env=None,
        ready_path="/healthz",
    ):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "SECRET_KEY": os.environ.get("SECRET_KEY") or "test-only",
            "DEBUG": "false",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            # Its own address is the origin it publishes (the OAuth issuer, its endpoints).
            "PORTAL_BASE_URL": self.url,
            "OAUTH_ISSUER": self.url,
            "METRICS_TOKEN": METRICS_TOKEN,
            "CREDENTIAL_CACHE": "true",
            "CREDENTIAL_CACHE_TTL_SECONDS": str(ttl),
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            **(extra_env or {}),
        }
        env.pop("REDIS_URL", None)
        if redis_url:
            env["REDIS_URL"] = redis_url
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "portal.wsgi",
                "--config",
                "portal/gunicorn.conf.py",
                "--workers",
                str(workers),
                "--worker-class",
                "sync",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--log-level",
                "warning",
                "--graceful-timeout",
                "2",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self.session = requests.Session()
        deadline = time.monotonic() + 60
        while True:
            try:
                if self.session.get(self.url + ready_path, timeout=10).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(
                    "gunicorn did not start: " + self.process.stderr.read().decode()[-2000:]
                )
            time.sleep(0.1)

    def get(self, path, authorization):
        return self.session.get(
            self.url + path, headers={"Authorization": authorization}, timeout=10
        )

    def metrics(self):
        return samples(
            self.session.get(
                self.url + "/metrics",
                headers={"Authorization": f"Bearer {METRICS_TOKEN}"},
                timeout=10,
            ).text
        )

    def hits(self):
        return self.metrics().get('keyward_credential_cache_lookups_total{result="hit"}', 0.0)

    def misses(self):
        return self.metrics().get('keyward_credential_cache_lookups_total{result="miss"}', 0.0)

    def listening(self):
        return self.metrics().get("keyward_invalidation_listener_connected", 0.0) == 1.0

    def warm(self, authorization, path="/api/v1/me", timeout=5):
        """Until `authorization` is answered from this server's memory (a change made just
        before, applied by a late read of the log, may drop the entry once more)."""
        self.wait_until_listening(authorization)
        deadline = time.monotonic() + timeout
        while True:
            assert self.get(path, authorization).status_code == 200
            hits = self.hits()
            assert self.get(path, authorization).status_code == 200
            if self.hits() == hits + 1:
                return
            assert time.monotonic() < deadline, "the credential was not answered from memory"

    def wait_until_listening(self, authorization, timeout=15):
        """Start the listener (it starts on the first authenticated request) and wait for it."""
        deadline = time.monotonic() + timeout
        self.get("/api/v1/me", authorization)
        while not self.listening():
            if time.monotonic() > deadline:
                raise RuntimeError("the server's invalidation listener did not connect")
            time.sleep(0.05)

    def worker_pids(self):
        children = (
            Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        )
        return [int(pid) for pid in children]

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
