import pytest
from django.core.exceptions import ImproperlyConfigured

from portal.settings import database_from_url, env_bool, env_int


def test_postgres_url_becomes_a_persistent_checked_connection():
    db = database_from_url("postgres://kw:s%40cret@db.example:5433/keyward")
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["NAME"], db["USER"], db["PASSWORD"], db["HOST"], db["PORT"]) == (
        "keyward",
        "kw",
        "s@cret",
        "db.example",
        "5433",
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


def _run(code, **env):
    import os
    import subprocess
    import sys

    clean = {
        k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "ALLOWED_HOSTS"}
    }
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_serving_without_a_secret_key_refuses_to_start_with_a_sentence():
    result = _run("import portal.wsgi", DJANGO_SETTINGS_MODULE="portal.settings")
    assert result.returncode != 0
    assert "SECRET_KEY is required when DEBUG is off" in result.stderr
    assert "ALLOWED_HOSTS is required" in result.stderr


def test_management_commands_that_sign_nothing_run_without_a_secret_key():
    result = _run(
        "import django; django.setup(); from django.core.management import call_command; "
        "call_command('makemigrations', '--check', '--dry-run', verbosity=0)",
        DJANGO_SETTINGS_MODULE="portal.settings",
    )
    assert result.returncode == 0, result.stderr[-500:]
