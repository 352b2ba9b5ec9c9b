import re
from unittest import mock

import pytest
from django.db import OperationalError

pytestmark = pytest.mark.django_db


def test_me_without_credentials_is_401_json_with_code_and_detail(api):
    response = api.get("/api/v1/me")
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == "not_authenticated"
    assert body["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_unknown_api_path_is_404_json(api):
    response = api.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_token_in_query_string_is_refused(api):
    response = api.get("/api/v1/me?access_token=kw_pat_whatever")
    # RFC 6750 §3.1 (issue 11, item 7): a malformed request, 400 — it was 401 before.
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_request"


def test_unknown_bearer_token_is_401_invalid_token_with_challenge(api):
    response = api.get("/api/v1/me", HTTP_AUTHORIZATION="Bearer something-unknown")
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_healthz_is_200_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_healthz_is_503_json_when_the_database_does_not_answer(client):
    with mock.patch(
        "django.db.backends.utils.CursorWrapper.execute", side_effect=OperationalError("down")
    ):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"


def test_api_answers_503_not_500_when_the_database_fails(client, alice):
    client.force_login(alice)
    with mock.patch(
        "chats.api.users.Membership.objects.filter", side_effect=OperationalError("down")
    ):
        response = client.get("/api/v1/me")
    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"


def test_schema_and_docs_are_served_without_a_cdn(client):
    assert client.get("/api/schema/").status_code == 200
    docs = client.get("/api/docs/").content.decode()
    docs = re.sub(r"[A-Za-z0-9]{64}", "", docs)  # the random CSRF token may spell "cdn" by chance
    assert "cdn" not in docs.lower()
    assert "/static/drf_spectacular_sidecar/" in docs


@pytest.mark.parametrize(
    ("accept", "status", "content_type"),
    [
        (None, 401, "application/json"),  # no Accept: anything goes, JSON first
        ("application/json", 401, "application/json"),
        ("text/html;q=0.9, application/json", 401, "application/json"),
        ("text/html", 401, "text/html"),  # the browsable API
        ("application/xml", 406, "application/json"),
    ],
)
def test_the_api_answers_in_the_type_its_accept_header_asks_for(api, accept, status, content_type):
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    response = api.get("/api/v1/me", **headers)
    assert response.status_code == status
    assert response["Content-Type"].startswith(content_type)
    if status == 406:
        assert response.json()["code"] == "not_acceptable"
