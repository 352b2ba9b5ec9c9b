"""The database announces every change a cached answer depends on, whoever makes it, and a
process applies the whole log: also rows that commit out of sequence order (PostgreSQL).

The first half runs inside the test's transaction, where the triggers' rows are visible to
the same connection; the second half drives `LogReader` with separate connections, as the
listener thread does."""

import pytest
from django.db import connection
from django.utils import timezone

from accounts import services as accounts
from accounts.models import Membership, Organization, OrganizationGroup, Role, User
from tests.factories import (
    issue,
    login_pair,
    make_api_key,
    make_client,
    membership,
    other_connection,
)
from tokens.api_keys import services as api_key_services
from tokens.cache.invalidation import LogReader
from tokens.cache.store import cache
from tokens.login import services as login_services
from tokens.models import AccessToken, ApiKey, Application
from tokens.oauth import services as oauth_services
from tokens.personal import services

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def _high():
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(seq), 0) FROM keyward_invalidation_log")
        return cursor.fetchone()[0]


class Logged:
    """The tags the database logged since the test began."""

    def __init__(self):
        self.since = _high()

    def tags(self):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT tags FROM keyward_invalidation_log WHERE seq > %s ORDER BY seq",
                [self.since],
            )
            return [tag for (tags,) in cursor.fetchall() for tag in tags]

    def rows(self):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM keyward_invalidation_log WHERE seq > %s", [self.since]
            )
            return cursor.fetchone()[0]


@pytest.fixture
def logged(db):
    return Logged()


# --- every writer is covered: services, DOT, bulk updates, the admin, raw SQL -------------


def test_revoking_a_token_logs_it(dev, logged):
    token, _ = issue(dev)
    services.revoke_token(token=token, by=dev)
    assert f"token:{token.pk}" in logged.tags()


def test_rotating_a_token_logs_the_old_one(dev, logged):
    token, _ = issue(dev)
    services.rotate_token(token=token, grace="none", by=dev)
    assert f"token:{token.pk}" in logged.tags()


def test_logout_and_ending_sessions_log_each_session(dev, org, logged):
    pairs = [login_pair(dev), login_pair(dev), login_pair(dev)]
    login_services.log_out(token_id=pairs[0].access_token.pk, by=dev)
    login_services.end_sessions(user=dev, by=dev, organization=org)
    assert {f"token:{p.access_token.pk}" for p in pairs} <= set(logged.tags())


def test_revoke_all_logs_every_session(dev, logged):
    old = login_pair(dev)
    login_services.revoke_all(user=dev, membership=membership(dev))
    assert f"token:{old.access_token.pk}" in logged.tags()


def test_api_key_rotation_and_revocation_log_the_key(alice, logged):
    key, _ = make_api_key(alice)
    api_key_services.rotate_api_key(key=key, by=alice)
    assert f"key:{key.pk}" in logged.tags()
    before = logged.tags().count(f"key:{key.pk}")
    api_key_services.revoke_api_key(key=key, by=alice)
    assert logged.tags().count(f"key:{key.pk}") > before


def test_client_secret_regeneration_and_delete_log_the_client_and_its_tokens(alice, logged):
    application, _ = make_client(alice, client_type="confidential")
    oauth_services.regenerate_secret(application=application, by=alice)
    assert f"app:{application.pk}" in logged.tags()
    oauth_services.delete_client(application=application, by=alice)
    assert logged.tags().count(f"app:{application.pk}") >= 2


def test_a_bulk_update_logs_every_token_in_one_row(dev):
    tokens = [issue(dev)[0] for _ in range(3)]
    logged = Logged()
    AccessToken.objects.filter(pk__in=[t.pk for t in tokens]).update(revoked_at=timezone.now())
    assert {f"token:{t.pk}" for t in tokens} <= set(logged.tags())
    assert logged.rows() == 1  # one statement, one row, however many tokens


def test_a_bulk_delete_logs_every_row(alice, logged):
    keys = [make_api_key(alice)[0] for _ in range(2)]
    since = Logged()
    ApiKey.objects.filter(pk__in=[k.pk for k in keys]).delete()
    assert {f"key:{k.pk}" for k in keys} <= set(since.tags())


def test_a_role_change_and_a_removal_log_the_membership(alice, agent, org, logged):
    member = membership(agent)
    Membership.objects.filter(pk=member.pk).update(role=Role.GUEST)
    assert f"member:{member.pk}" in logged.tags()
    since = Logged()
    Membership.objects.filter(pk=member.pk).delete()
    assert f"member:{member.pk}" in since.tags()


def test_deactivating_a_user_logs_the_user(agent, logged):
    User.objects.filter(pk=agent.pk).update(is_active=False)
    assert f"user:{agent.pk}" in logged.tags()


def test_deleting_an_organization_logs_it_and_everything_it_cascades(alice, org, logged):
    token, _ = issue(alice)
    member = membership(alice, org)
    accounts.delete_organization(organization=Organization.objects.get(pk=org.pk))
    assert {f"org:{org.pk}", f"token:{token.pk}", f"member:{member.pk}"} <= set(logged.tags())


def test_a_group_change_logs_the_group(group, logged):
    OrganizationGroup.objects.filter(pk=group.pk).update(name="Renamed")
    assert f"group:{group.pk}" in logged.tags()


def test_a_token_policy_change_logs_its_organization(alice, org, logged):
    services.set_token_policy(
        organization=org,
        by=alice,
        require_expiry=False,
        max_lifetime_days=None,
        max_live_tokens_per_member=None,
        require_jwt_exp=True,
    )
    assert f"org:{org.pk}" in logged.tags()  # cached API keys carry their organization's policy


def test_raw_sql_outside_the_application_is_logged(dev, logged):
    token, _ = issue(dev)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE tokens_accesstoken SET scope = 'read.me' WHERE id = %s", [token.pk])
    assert f"token:{token.pk}" in logged.tags()


def test_truncate_logs_everything(logged):
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE tokens_apikey CASCADE")
    assert "all" in logged.tags()


def test_an_update_that_changes_nothing_logs_nothing(dev, logged):
    token, _ = issue(dev)
    since = Logged()
    AccessToken.objects.filter(pk=token.pk).update(scope=token.scope)
    assert since.rows() == 0


@pytest.mark.parametrize(
    ("model", "fields"),
    [
        (AccessToken, {"last_used_at": "now", "last_used_ip": "192.0.2.1"}),
        (ApiKey, {"last_used_at": "now", "last_used_ip": "192.0.2.1"}),
        (Application, {"last_used_at": "now"}),
        (User, {"last_login": "now"}),
    ],
)
def test_bookkeeping_writes_do_not_churn_the_cache(dev, alice, model, fields, logged):
    issue(dev)
    make_api_key(alice)
    make_client(alice)
    values = {k: timezone.now() if v == "now" else v for k, v in fields.items()}
    since = Logged()
    assert model.objects.update(**values) > 0
    assert since.rows() == 0


# --- a process applies the whole log, in whatever order it commits -------------------------


def _connect():
    """A connection of its own in a transaction of its own, as another process's writer."""
    conn = other_connection()
    conn.autocommit = False
    return conn


@pytest.fixture
def trusted_cache():
    cache.set_listening(True)
    cache.trust_until(float("inf"))
    yield cache
    cache.set_listening(False)


def _hold(tag):
    """A cache entry that only `tag` drops."""
    assert cache.put(tag, object(), [tag], cache.generation)
    return tag


def _in_cache(tag):
    return cache.get(tag) is not None


@pytest.fixture
def groups(django_db_blocker):
    with django_db_blocker.unblock():
        made = [OrganizationGroup.objects.create(name=f"G{n}", slug=f"g{n}") for n in range(3)]
    return [g.pk for g in made]


def _touch(conn, group_id):
    conn.execute(
        "UPDATE accounts_organizationgroup SET name = name || '.' WHERE id = %s", [group_id]
    )


@pytest.mark.django_db(transaction=True)
def test_a_row_that_commits_after_a_higher_one_is_still_applied(groups, trusted_cache):
    first, second, _ = groups
    with other_connection() as reader_conn, _connect() as a, _connect() as b:
        reader = LogReader(reader_conn, "test-reader")
        reader.start()
        held = [_hold(f"group:{first}"), _hold(f"group:{second}")]
        _touch(a, first)  # takes the lower sequence number…
        _touch(b, second)  # …this one the higher
        b.commit()  # and commits first
        reader.read()
        assert (_in_cache(held[0]), _in_cache(held[1])) == (True, False)
        a.commit()
        reader.read()
        assert not _in_cache(held[0])  # "everything after the last seq I saw" would lose it


@pytest.mark.django_db(transaction=True)
def test_a_transaction_running_when_the_reader_starts_is_applied_when_it_commits(
    groups, trusted_cache
):
    first, second, _ = groups
    with other_connection() as reader_conn, _connect() as a, _connect() as b:
        _touch(a, first)
        _touch(b, second)
        b.commit()  # the log's end is now above a's row
        reader = LogReader(reader_conn, "test-reader")
        reader.start()
        held = _hold(f"group:{first}")
        a.commit()
        reader.read()
        assert not _in_cache(held)


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_gap_never_stalls_the_reader(groups, trusted_cache):
    first, second, third = groups
    with other_connection() as reader_conn, _connect() as a, _connect() as b:
        reader = LogReader(reader_conn, "test-reader")
        reader.start()
        _touch(a, first)
        _touch(b, second)
        b.commit()
        a.rollback()  # its sequence number is a gap for good
        reader.read()
        assert reader.running == [] or all(x.isdigit() for x in reader.running)
        held = _hold(f"group:{third}")
        _touch(b, third)
        b.commit()
        reader.read()
        assert not _in_cache(held)


@pytest.mark.django_db(transaction=True)
def test_each_read_leaves_a_receipt_others_can_check(groups, trusted_cache):
    with other_connection() as reader_conn, _connect() as writer:
        reader = LogReader(reader_conn, "test-reader")
        reader.start()
        _touch(writer, groups[0])
        xid = writer.execute("SELECT pg_current_xact_id()::text").fetchone()[0]
        writer.commit()
        visible = "SELECT pg_visible_in_snapshot(%s::xid8, snapshot) FROM keyward_cache_receipt WHERE process = %s"
        assert writer.execute(visible, [xid, "test-reader"]).fetchone() == (False,)
        reader.read()
        assert writer.execute(visible, [xid, "test-reader"]).fetchone() == (True,)
        writer.commit()
        reader.leave()


def test_the_scheduler_prunes_old_log_rows_and_stopped_processes_receipts(dev):
    from tokens.cache.propagation import prune_log

    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO keyward_invalidation_log (tags, logged_at) VALUES "
            "('{token:1}', now() - interval '2 hours'), ('{token:2}', now())"
        )
        cursor.execute(
            "INSERT INTO keyward_cache_receipt (process, snapshot, applied_seq, seen_at) VALUES "
            "('gone', pg_current_snapshot(), 0, now() - interval '2 hours'),"
            "('alive', pg_current_snapshot(), 0, now())"
        )
    prune_log(now=timezone.now())
    with connection.cursor() as cursor:
        cursor.execute("SELECT tags FROM keyward_invalidation_log")
        left = [tag for (tags,) in cursor.fetchall() for tag in tags]
        cursor.execute("SELECT process FROM keyward_cache_receipt")
        processes = {name for (name,) in cursor.fetchall()}
    assert "token:1" not in left
    assert "token:2" in left
    assert processes == {"alive"}
