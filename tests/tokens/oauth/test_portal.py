"""Developer › OAuth clients and Authorized apps in the portal."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import bearer, make_client
from tests.tokens.oauth.helpers import REDIRECT_URI, grant
from tokens import secret_format
from tokens.models import AccessToken, Application

pytestmark = pytest.mark.django_db


def url(org, path=""):
    return f"/orgs/{org.public_id}/developer/oauth-clients/{path}"


def test_developer_registers_a_client_and_sees_the_secret_once(client, dev, org):
    client.force_login(dev)
    response = client.post(
        url(org, "new/"),
        {"name": "Reporting app", "redirect_uris": REDIRECT_URI, "client_type": "confidential"},
        follow=True,
    )
    assert response.status_code == 200
    application = Application.objects.get()
    assert application.created_by == dev and application.organization == org
    secret = response.context["secret"]
    assert len(secret) == 128
    assert secret in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    again = client.get(url(org, f"{application.pk}/"))
    assert again.status_code == 200
    assert secret not in again.content.decode()
    assert application.client_id in again.content.decode()


def test_bad_redirect_uri_shows_the_error_on_the_form(client, dev, org):
    client.force_login(dev)
    response = client.post(
        url(org, "new/"),
        {
            "name": "App",
            "redirect_uris": "http://app.example.com/cb",
            "client_type": "confidential",
        },
    )
    assert response.status_code == 400
    assert not Application.objects.exists()
    assert "must use https" in response.content.decode()


def test_developer_sees_only_their_own_clients(client, dev, alice, org):
    make_client(dev, name="Dev's app")
    make_client(alice, name="Alice's app")
    client.force_login(dev)
    page = client.get(url(org)).content.decode()
    assert "Dev&#x27;s app" in page
    assert "Alice&#x27;s app" not in page


def test_admin_sees_every_client_of_the_organization(client, dev, alice, org):
    make_client(dev, name="Dev's app")
    make_client(alice, name="Alice's app")
    client.force_login(alice)
    page = client.get(url(org)).content.decode()
    assert "Dev&#x27;s app" in page and "Alice&#x27;s app" in page


def test_client_list_costs_the_same_queries_for_one_client_or_many(client, dev, org):
    client.force_login(dev)
    make_client(dev)
    with CaptureQueriesContext(connection) as one:
        client.get(url(org))
    for n in range(5):
        make_client(dev, name=f"App {n}")
    with CaptureQueriesContext(connection) as many:
        client.get(url(org))
    assert len(many) == len(one)


def test_edit_changes_name_and_redirect_uris(client, dev, org):
    application, _ = make_client(dev)
    client.force_login(dev)
    response = client.post(
        url(org, f"{application.pk}/edit/"),
        {"name": "Renamed", "redirect_uris": "https://a.example.com/cb\nhttps://b.example.com/cb"},
    )
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.name == "Renamed"
    assert application.redirect_uris == "https://a.example.com/cb https://b.example.com/cb"


def test_regenerate_shows_a_new_secret_once_and_the_old_one_stops_working(client, dev, org):
    from django.contrib.auth.hashers import check_password

    application, old = make_client(dev)
    client.force_login(dev)
    response = client.post(url(org, f"{application.pk}/regenerate-secret/"), follow=True)
    assert response.status_code == 200
    new = response.context["secret"]
    stored = Application.objects.get(pk=application.pk).client_secret
    assert check_password(new, stored) and not check_password(old, stored)
    assert new in response.content.decode()
    assert "the old one no longer works" in response.content.decode()


def test_delete_asks_for_confirmation_first(client, dev, org):
    application, _ = make_client(dev)
    client.force_login(dev)
    response = client.get(url(org, f"{application.pk}/delete/"))
    assert response.status_code == 200
    assert Application.objects.filter(pk=application.pk).exists()
    assert "cannot be undone" in response.content.decode()


def test_admin_deletes_a_developers_client_and_its_tokens_stop_working(
    client, api, dev, alice, org
):
    application, secret = make_client(dev)
    body = grant(dev, application, secret)
    client.force_login(alice)
    response = client.post(url(org, f"{application.pk}/delete/"))
    assert response.status_code == 302
    assert not Application.objects.filter(pk=application.pk).exists()
    assert api.get("/api/v1/me", **bearer(body["access_token"])).status_code == 401


def test_authorized_apps_lists_my_grants_and_revokes_one(client, api, dev, org):
    application, secret = make_client(dev)
    body = grant(dev, application, secret)
    token = AccessToken.objects.get(token_checksum=secret_format.digest(body["access_token"]))
    client.force_login(dev)
    page = client.get(f"/orgs/{org.public_id}/developer/authorized-apps/")
    assert page.status_code == 200
    assert "Reporting app" in page.content.decode()
    response = client.post(
        f"/orgs/{org.public_id}/developer/authorized-apps/{token.pk}/revoke/",
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert "revoked" in response.content.decode()
    assert api.get("/api/v1/me", **bearer(body["access_token"])).status_code == 401


def test_admin_cannot_revoke_a_developers_grant_from_the_portal(client, dev, alice, org):
    application, secret = make_client(dev)
    body = grant(dev, application, secret)
    token = AccessToken.objects.get(token_checksum=secret_format.digest(body["access_token"]))
    client.force_login(alice)
    response = client.post(f"/orgs/{org.public_id}/developer/authorized-apps/{token.pk}/revoke/")
    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
