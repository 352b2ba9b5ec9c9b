import json

import pytest
from django.core.exceptions import ImproperlyConfigured

from portal.settings import database_from_url, env_bool, env_int


def test_postgres_url_becomes_a_persistent_checked_connection():
    db = database_from_url("postgres://kw:s%40cret@db.example:5433/keyward")
    assert db["ENGINE"] == "portal.postgresql"  # Django's, with a round-trip-free health check
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
        k: v
        for k, v in os.environ.items()
        if k not in {"SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "PORTAL_BASE_URL", "OAUTH_ISSUER"}
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


def test_serving_without_a_configured_origin_refuses_to_start_with_a_sentence():
    result = _run(
        "import portal.wsgi",
        DJANGO_SETTINGS_MODULE="portal.settings",
        SECRET_KEY="x" * 50,
        ALLOWED_HOSTS="keyward.example",
    )
    assert result.returncode != 0
    assert "PORTAL_BASE_URL (or OAUTH_ISSUER) is required when DEBUG is off" in result.stderr


def test_serving_starts_with_a_portal_base_url_and_no_oauth_issuer():
    result = _run(
        "import portal.wsgi",
        DJANGO_SETTINGS_MODULE="portal.settings",
        SECRET_KEY="x" * 50,
        ALLOWED_HOSTS="keyward.example",
        PORTAL_BASE_URL="https://keyward.example",
    )
    assert result.returncode == 0, result.stderr[-500:]


ORIGINS = (
    "import json, portal.settings as s; print(json.dumps([s.OAUTH_ISSUER, s.PORTAL_BASE_URL, "
    "s.OAUTH2_PROVIDER['OIDC_ISS_ENDPOINT'], s.SPECTACULAR_SETTINGS['SERVERS']]))"
)


def test_oauth_issuer_is_the_origin_of_the_portal_base_url_when_unset():
    result = _run(ORIGINS, PORTAL_BASE_URL="https://keyward.example/")
    issuer, base, dot_issuer, servers = json.loads(result.stdout)
    assert issuer == dot_issuer == "https://keyward.example"
    assert base == "https://keyward.example"
    assert servers == [{"url": "https://keyward.example"}]


def test_oauth_issuer_setting_wins_and_serves_as_the_portal_base_url_when_that_is_unset():
    result = _run(ORIGINS, OAUTH_ISSUER="https://auth.keyward.example")
    issuer, base, dot_issuer, servers = json.loads(result.stdout)
    assert issuer == dot_issuer == base == "https://auth.keyward.example"
    assert servers == [{"url": "https://auth.keyward.example"}]


def test_oauth_issuer_that_is_not_a_url_stops_keyward_with_a_sentence():
    result = _run(ORIGINS, OAUTH_ISSUER="keyward.example")
    assert result.returncode != 0
    assert "OAUTH_ISSUER must start with http:// or https://" in result.stderr


def test_management_commands_that_sign_nothing_run_without_a_secret_key():
    result = _run(
        "import django; django.setup(); from django.core.management import call_command; "
        "call_command('makemigrations', '--check', '--dry-run', verbosity=0)",
        DJANGO_SETTINGS_MODULE="portal.settings",
    )
    assert result.returncode == 0, result.stderr[-500:]
