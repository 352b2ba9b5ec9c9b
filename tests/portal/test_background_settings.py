"""Email, portal links, leak-report keys and tasks: read from the environment like every setting."""

import json
import os
import subprocess
import sys

import pytest

PRINT = (
    "import json, portal.settings as s; print(json.dumps({'backend': s.EMAIL_BACKEND, 'host': s.EMAIL_HOST, "
    "'port': s.EMAIL_PORT, 'tls': s.EMAIL_USE_TLS, 'sender': s.DEFAULT_FROM_EMAIL, 'base': s.PORTAL_BASE_URL, "
    "'keys': s.SECRET_SCANNING_PUBLIC_KEYS, 'tasks': s.TASKS['default']['BACKEND']}))"
)
MANAGED = {
    "EMAIL_HOST",
    "EMAIL_PORT",
    "EMAIL_USE_TLS",
    "DEFAULT_FROM_EMAIL",
    "PORTAL_BASE_URL",
    "SECRET_SCANNING_PUBLIC_KEYS",
}


def settings_with(**env):
    clean = {k: v for k, v in os.environ.items() if k not in MANAGED}
    return subprocess.run(
        [sys.executable, "-c", PRINT],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_without_email_host_mail_goes_to_the_console_and_tasks_to_the_database_queue():
    result = json.loads(settings_with().stdout)
    assert result["backend"] == "django.core.mail.backends.console.EmailBackend"
    assert result["tasks"] == "django_tasks_db.DatabaseBackend"
    assert result["keys"] == {}


def test_email_host_switches_to_smtp_under_djangos_own_names():
    result = json.loads(
        settings_with(
            EMAIL_HOST="smtp.example",
            EMAIL_USE_TLS="true",
            DEFAULT_FROM_EMAIL="Keyward <k@example>",
            PORTAL_BASE_URL="https://keyward.example/",
        ).stdout
    )
    assert result["backend"] == "django.core.mail.backends.smtp.EmailBackend"
    assert (result["host"], result["port"], result["tls"]) == ("smtp.example", 587, True)
    assert result["sender"] == "Keyward <k@example>" and result["base"] == "https://keyward.example"


@pytest.mark.parametrize(
    "env, message",
    [
        (
            {"SECRET_SCANNING_PUBLIC_KEYS": "not json"},
            "SECRET_SCANNING_PUBLIC_KEYS must be a JSON object",
        ),
        (
            {"SECRET_SCANNING_PUBLIC_KEYS": '{"k": "abc"}'},
            "map each key identifier to a PEM public key",
        ),
        ({"PORTAL_BASE_URL": "keyward.example"}, "PORTAL_BASE_URL must start with http"),
    ],
)
def test_bad_values_stop_keyward_with_a_sentence(env, message):
    result = settings_with(**env)
    assert result.returncode != 0 and message in result.stderr
