import pytest
from django.urls import reverse

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_person_logs_in_with_email_and_password(client, alice, org):
    response = client.post(reverse("login"), {"username": "alice@acme.test", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 302  # on to the organization


def test_wrong_password_is_refused_with_a_sentence(client, alice):
    response = client.post(reverse("login"), {"username": "alice@acme.test", "password": "nope"})
    assert response.status_code == 200
    assert "do not match" in response.content.decode()


def test_service_account_cannot_log_in_even_with_a_password(client, bot):
    bot.set_password(PASSWORD)
    bot.save()
    response = client.post(reverse("login"), {"username": "bot@acme.test", "password": PASSWORD})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_logout_ends_the_session(client, alice, org):
    client.post(reverse("login"), {"username": "alice@acme.test", "password": PASSWORD})
    client.post(reverse("logout"))
    assert "_auth_user_id" not in client.session
