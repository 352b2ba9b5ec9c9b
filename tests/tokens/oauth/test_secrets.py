"""Client secrets: hashed at rest with the fast client-secret hasher, shown once, nowhere in the database."""

import pytest
from django.contrib.auth.hashers import check_password, identify_hasher
from django.db import connection

from tests.factories import make_client, membership
from tests.tokens.oauth.helpers import grant
from tokens.models import Application
from tokens.oauth import services
from tokens.oauth.hashers import ClientSecretHasher
from tokens.one_time import SecretAlreadyShown

pytestmark = pytest.mark.django_db


def _dump():
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            for row in cursor.fetchall():
                yield table, " ".join(str(value) for value in row)


def test_no_row_of_any_table_holds_a_client_secret_or_oauth_token(dev, alice):
    application, first = make_client(dev)
    second = services.regenerate_secret(application=application, by=dev).secret.reveal()
    body = grant(alice, application, second)
    _, other_secret = make_client(alice, name="Other", allow_introspection=True)
    secrets = [first, second, other_secret, body["access_token"], body["refresh_token"]]
    leaks = [(table, s[:8]) for table, text in _dump() for s in secrets if s in text]
    assert leaks == []


def test_stored_secret_is_a_salted_sha256_hash_that_verifies(dev):
    application, secret = make_client(dev)
    stored = Application.objects.get(pk=application.pk).client_secret
    assert identify_hasher(stored).algorithm == "kw_client_sha256"
    assert check_password(secret, stored)
    assert not check_password(
        secret[:-1] + ("y" if secret.endswith("x") else "x"), stored
    )  # always another secret


def test_two_clients_never_share_a_stored_value_even_with_one_secret():
    hasher = ClientSecretHasher()
    assert hasher.encode("s" * 128, hasher.salt()) != hasher.encode("s" * 128, hasher.salt())


def test_user_passwords_stay_pbkdf2_and_the_client_hasher_comes_last():
    from portal import settings as project

    assert project.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.PBKDF2PasswordHasher"
    assert project.PASSWORD_HASHERS[-1] == "tokens.oauth.hashers.ClientSecretHasher"
    assert project.OAUTH2_PROVIDER["CLIENT_SECRET_HASHER"] == ClientSecretHasher.algorithm


def test_secret_is_readable_once_from_the_service(dev):
    issued = services.create_client(
        membership=membership(dev), name="App", redirect_uris=["https://app.example.com/cb"]
    )
    issued.secret.reveal()
    with pytest.raises(SecretAlreadyShown):
        issued.secret.reveal()
    assert "kw_" not in repr(issued.secret)


def test_regenerating_refuses_the_old_secret_at_once(dev):
    application, old = make_client(dev)
    new = services.regenerate_secret(application=application, by=dev).secret.reveal()
    stored = Application.objects.get(pk=application.pk).client_secret
    assert not check_password(old, stored)
    assert check_password(new, stored)
