"""The cast every test can call on, and the rules that make CI run every test.

Acme (in Acme Group) has alice (admin), dev (bot with developer access),
agent, guest and bot (a service account); mallory is admin of Globex.
"""

import os

import pytest
from django.db import connection
from rest_framework.test import APIClient

from accounts.models import Organization, OrganizationGroup, Role
from tests.factories import make_member, make_platform
from tokens.usage import counter as usage_counter


def _required(name):
    return os.environ.get(name, "").lower() in {"1", "true", "yes"}


def on_postgres():
    return connection.vendor == "postgresql"


def pytest_runtest_setup(item):
    """A PostgreSQL-only test skips on SQLite, but fails where CI requires PostgreSQL."""
    if item.get_closest_marker("postgres") and not on_postgres():
        message = "needs PostgreSQL: set DATABASE_URL=postgres://…"
        if _required("REQUIRE_POSTGRES"):
            pytest.fail(message + " (REQUIRE_POSTGRES=1 forbids skipping)")
        pytest.skip(message)


def pytest_sessionstart(session):
    if _required("REQUIRE_POSTGRES") and not os.environ.get("DATABASE_URL", "").startswith(
        "postgres"
    ):
        pytest.exit(
            "REQUIRE_POSTGRES=1 but DATABASE_URL does not point at PostgreSQL", returncode=1
        )


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """PBKDF2 costs ~0.3 s per user; tests that measure login timing opt back in."""
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "tokens.oauth.hashers.ClientSecretHasher",
    ]


@pytest.fixture(autouse=True)
def webhooks_may_call_local_receivers(settings):
    """Tests run their webhook receivers on http://127.0.0.1 (README: WEBHOOK_ALLOW_PRIVATE_ADDRESSES,
    WEBHOOK_ALLOW_HTTP)."""
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    settings.WEBHOOK_ALLOW_HTTP = True


@pytest.fixture
def live_server(live_server, settings):
    """pytest-django's live server, configured as the deployment's origin: the OAuth issuer and
    the URLs discovery publishes name it (Keyward never takes them from a request)."""
    settings.OAUTH_ISSUER = live_server.url
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "OIDC_ISS_ENDPOINT": live_server.url}
    return live_server


@pytest.fixture(autouse=True)
def credential_cache_off(settings):
    """The in-process suite asks the database on every request: many tests arrange a state by
    writing rows directly (a revoked_at, a deactivated user), which no production write does
    without publishing. tests/tokens/cache/ turns the cache on, in process and in live servers."""
    settings.CREDENTIAL_CACHE = False


@pytest.fixture
def cache_on(settings, monkeypatch):
    """The cache in use as if this process's listener were connected (no thread, any database)."""
    from tokens.cache import invalidation
    from tokens.cache.store import cache

    settings.CREDENTIAL_CACHE = True
    monkeypatch.setattr(invalidation, "_listener", True)
    cache.set_listening(True)
    cache.trust_until(float("inf"))
    yield cache
    cache.set_listening(False)


TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def require_redis(url=TEST_REDIS_URL):
    """Skip while Redis at `url` does not answer; fail instead where CI requires Redis."""
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.exceptions.RedisError:
        message = f"needs Redis at {url} (TEST_REDIS_URL)"
        if _required("REQUIRE_REDIS"):
            pytest.fail(message + " (REQUIRE_REDIS=1 forbids skipping)")
        pytest.skip(message)


@pytest.fixture(params=["database", "redis"])
def throttle_store(request, settings):
    """The throttle's counters in each store it runs on: the database (no REDIS_URL), and Redis
    at TEST_REDIS_URL (REDIS_URL set). Emptied before and after."""
    from accounts import throttle

    if request.param == "redis":
        require_redis()
        settings.REDIS_URL = TEST_REDIS_URL
    else:
        settings.REDIS_URL = ""
    store = throttle.counters()
    expected = throttle.RedisCounters if request.param == "redis" else throttle.DatabaseCounters
    assert isinstance(store, expected), f"the throttle does not count in {request.param}"
    throttle.reset()
    yield store
    throttle.reset()


@pytest.fixture(autouse=True)
def usage_counted_in_memory_only(settings):
    """No flush thread in the test process (a background write would land in any test's
    tables at any moment): each test starts with nothing counted, and flushes when it wants."""
    settings.USAGE_FLUSH_SECONDS = 0
    settings.LIMITS_SYNC_MS = 0  # likewise the limits' sync thread (tests call sync_once)
    usage_counter.take()
    yield
    usage_counter.take()


@pytest.fixture
def group(db):
    """Acme Group, owned by alice once she exists."""
    return OrganizationGroup.objects.create(name="Acme Group", slug="acme-group")


@pytest.fixture
def org(group):
    """Acme, the organization most tests happen in."""
    return Organization.objects.create(name="Acme", slug="acme", group=group)


@pytest.fixture
def other_org(db):
    """Globex: another tenant, whose people must never see Acme's things."""
    return Organization.objects.create(name="Globex", slug="globex")


@pytest.fixture
def alice(org, group):
    """Acme's admin (and owner of Acme Group)."""
    user = make_member(org, "alice@acme.test", Role.ADMIN, developer_access=True)
    group.owners.add(user)
    return user


@pytest.fixture
def dev(org):
    """A bot-level member of Acme with developer access."""
    return make_member(org, "dev@acme.test", Role.BOT, developer_access=True)


@pytest.fixture
def agent(org):
    """An agent of Acme without developer access."""
    return make_member(org, "agent@acme.test", Role.AGENT)


@pytest.fixture
def guest(org):
    """A guest of Acme."""
    return make_member(org, "guest@acme.test", Role.GUEST)


@pytest.fixture
def bot(org):
    """Acme's service account: owns credentials, never logs in with a password."""
    return make_member(org, "bot@acme.test", Role.BOT, service=True)


@pytest.fixture
def mallory(other_org):
    """Globex's admin: an outsider to Acme."""
    return make_member(other_org, "mallory@globex.test", Role.ADMIN, developer_access=True)


@pytest.fixture
def api():
    return APIClient()


# Platform data: one of every resource in Acme, Acme Labs and Globex.


@pytest.fixture
def acme(org, alice, guest, bot):
    """Acme's platform data; its first contact is the one guest@acme.test chats as."""
    return make_platform(org, author=alice, guest=guest)


@pytest.fixture
def labs(org, alice):
    """Acme Labs, in Acme Group (alice owns the group but is not a member of Labs)."""
    labs_org = Organization.objects.create(name="Acme Labs", slug="acme-labs", group=org.group)
    return make_platform(labs_org, author=alice)


@pytest.fixture
def globex(other_org, mallory):
    return make_platform(other_org, author=mallory)
