import pytest
from django.core.exceptions import ImproperlyConfigured

from portal.settings import database_from_url, env_bool, env_int


def test_postgres_url_becomes_a_persistent_checked_connection():
    db = database_from_url("postgres://kw:s%40cret@db.example:5433/keyward")
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["NAME"], db["USER"], db["PASSWORD"], db["HOST"], db["PORT"]) == (
        "keyward", "kw", "s@cret", "db.example", "5433"
    )
    assert db["CONN_MAX_AGE"] > 0 and db["CONN_HEALTH_CHECKS"] is True


def test_unknown_database_scheme_fails_with_a_clear_message():
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL must start with"):
        database_from_url("mysql://x/y")


def test_bad_boolean_fails_with_a_clear_message(monkeypatch):
    monkeypatch.setenv("DEBUG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="DEBUG must be true or false"):
        env_bool("DEBUG", False)


def test_bad_number_fails_with_a_clear_message(monkeypatch):
    monkeypatch.setenv("TOKEN_LAST_USED_INTERVAL_SECONDS", "soon")
    with pytest.raises(ImproperlyConfigured, match="whole number"):
        env_int("TOKEN_LAST_USED_INTERVAL_SECONDS", 60)
