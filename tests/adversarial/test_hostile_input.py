"""Hostile input, table by table: whatever arrives, the answer is a 4xx in the API's error
format (or a success), never a 5xx. Routes come from the URL resolver and the OpenAPI
document, so a new route is probed without anyone adding it here."""

import base64
import json
from unittest import mock

import jwt
import pytest
from django.db import DataError, OperationalError

from .conftest import (
    all_scope_token,
    api_key,
    assert_json_error,
    bearer,
    departed_member_and_delivery,
    first_ids,
    is_api,
    openapi,
    operations,
    own_credentials,
    resolver_paths,
)

pytestmark = pytest.mark.django_db

DEEP = "[" * 500 + "]" * 500  # 1 KB
NOT_OBJECTS = ["5", "null", "true", "[]", '"x"']


# Operations that read their raw body themselves, never through the API's parsers, with the reason.
RAW_BODY_OPERATIONS = {
    "secret_scanning_report": "GitHub's signature covers the raw bytes: a JSON array, parsed only once it verified",
}
RAW_BODY_VIEWS = {"ReportView": RAW_BODY_OPERATIONS["secret_scanning_report"]}


@pytest.fixture
def caller(client, alice, acme):
    """Alice's all-scope personal token, and an API key of Acme, both made through the API."""
    token = all_scope_token(client, "alice@acme.test")
    headers = bearer(token["token"])
    own_credentials(client, headers)
    departed_member_and_delivery(acme.org, alice)
    return headers


@pytest.fixture
def writes(client, caller):
    """Every POST/PUT/PATCH operation, with its ids filled with objects the caller can reach
    (sessions need a login token: those keep a made-up id)."""
    document = openapi(client)
    found = []
    for method, path, operation in operations(document, ("post", "put", "patch")):
        if operation["operationId"] in RAW_BODY_OPERATIONS:
            continue  # unsigned, it is 401 before any body is read (tests/tokens/test_leaks.py)
        concrete = first_ids(client, caller, path)
        assert concrete or "session" in path, path
        found.append(
            (method, concrete or path.replace("{", "").replace("}", ""), "requestBody" in operation)
        )
    assert len(found) > 20
    return found


def send(client, method, path, body, content_type="application/json", **headers):
    return client.generic(method, path, body, content_type=content_type, **headers)


# Nesting and shape


def test_json_nested_deeper_than_limit_is_refused_with_400(client, db):
    response = send(client, "POST", "/api/v1/auth/token", DEEP)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_json"


def test_json_nested_within_limit_is_parsed(client, alice):
    body = {"email": "alice@acme.test", "password": "x", "extra": json.loads("[" * 20 + "]" * 20)}
    response = client.post("/api/v1/auth/token", body, format="json")
    assert response.json()["code"] != "invalid_json"


def test_deep_json_on_every_write_is_a_4xx(client, caller, writes):
    for method, path, takes_body in writes:
        response = send(client, method, path, DEEP, **caller)
        assert_json_error(response, path)
        assert response.status_code >= 400 or not takes_body, (method, path)


@pytest.mark.parametrize("body", NOT_OBJECTS)
def test_body_that_is_not_an_object_is_refused_with_400_on_every_write(
    client, caller, writes, body
):
    for method, path, takes_body in writes:
        response = send(client, method, path, body, **caller)
        assert_json_error(response, path)
        if takes_body:
            assert response.status_code in (400, 403), (method, path, response.status_code)


def test_every_request_body_in_the_document_is_an_object(client, db):
    """The parser refuses non-object bodies; that is only right while no operation takes one."""
    document = openapi(client)
    schemas = document["components"]["schemas"]
    for method, path, operation in operations(document):
        if operation["operationId"] in RAW_BODY_OPERATIONS:
            continue
        for media in operation.get("requestBody", {}).get("content", {}).values():
            schema = media["schema"]
            if "$ref" in schema:
                schema = schemas[schema["$ref"].rsplit("/", 1)[-1]]
            assert schema.get("type", "object") == "object", (method, path)


# Control characters


@pytest.mark.parametrize("char", ["\x00", "\x01", "\x1b", "\x7f"])
def test_control_character_in_a_json_string_is_refused_with_400(client, caller, char):
    response = client.post(
        "/api/v1/tokens", {"name": f"a{char}b", "scopes": ["read.me"]}, format="json", **caller
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_characters"


def test_tab_and_newline_in_a_json_string_are_accepted(client, caller):
    response = client.post(
        "/api/v1/tokens", {"name": "a\tb\nc", "scopes": ["read.me"]}, format="json", **caller
    )
    assert response.json().get("code") != "invalid_characters"


def test_lone_surrogate_in_a_json_string_is_refused_with_400(client, caller):
    response = send(
        client, "POST", "/api/v1/tokens", '{"name": "\\ud800", "scopes": ["read.me"]}', **caller
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_characters"


def test_control_character_in_a_json_key_is_refused_with_400(client, caller):
    response = send(
        client, "POST", "/api/v1/tokens", '{"na\\u0000me": "x", "scopes": ["read.me"]}', **caller
    )
    assert response.status_code == 400


def test_nul_in_every_string_field_of_every_write_is_a_4xx(client, caller, writes):
    body = json.dumps(
        dict.fromkeys(
            (
                "name",
                "email",
                "contactId",
                "fields",
                "text",
                "title",
                "subject",
                "url",
                "key",
                "value",
                "owner",
                "organization",
                "refreshToken",
                "clientId",
                "password",
                "redirectUris",
                "scopes",
            ),
            "x\x00y",
        )
    )
    for method, path, takes_body in writes:
        response = send(client, method, path, body, **caller)
        assert_json_error(response, path)
        if takes_body:
            assert response.status_code in (400, 403), (method, path, response.status_code)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/conversations", {"contactId": "1\u0000", "subject": "x"}),
        ("/api/v1/forms", {"name": "x", "fields": ["email\u0000"]}),
        ("/api/v1/forms", {"name": "x", "fields": [{"name\u0000": "x"}]}),
    ],
    ids=["conversations.contactId", "forms.fields item", "forms.fields key"],
)
def test_nul_in_a_field_postgres_cannot_store_is_refused_with_400_not_503(
    client, caller, path, body
):
    response = client.post(path, body, format="json", **caller)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_characters"


def test_control_character_in_the_query_string_is_refused_with_400(client, caller):
    response = client.get("/api/v1/tokens?scope=org%00", **caller)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_characters"


def test_nul_in_the_authorization_header_is_refused_with_400(client, db):
    response = client.get("/api/v1/me", HTTP_AUTHORIZATION="Bearer kw_pat_\x00abc")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_characters"


def test_control_character_in_any_header_is_refused_with_400(client, db):
    response = client.get("/api/v1/me", HTTP_X_REQUEST_ID="a\x07b")
    assert response.status_code == 400


def test_nul_in_an_api_key_jwt_kid_is_a_401_not_an_outage(client, alice, acme):
    key = api_key(client, "alice@acme.test")
    forged = jwt.encode(
        {"scope": "app"}, key["secret"], algorithm="HS256", headers={"kid": key["keyId"] + "\x00"}
    )
    response = client.get("/api/v1/me", **bearer(forged))
    assert_json_error(response, "/api/v1/me")
    assert response.status_code in (400, 401)


@pytest.mark.parametrize(
    "field", ["client_id", "client_secret", "grant_type", "code", "redirect_uri"]
)
def test_nul_in_an_oauth_token_form_field_is_refused_with_400(client, db, field):
    form = {
        "grant_type": "authorization_code",
        "client_id": "abc",
        "code": "x",
        "redirect_uri": "https://x",
    }
    form[field] = "a\x00b"
    response = client.post("/o/token/", form)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_characters"


def test_nul_in_an_api_form_body_is_refused_with_400(client, caller):
    response = client.post("/api/v1/tokens", {"name": "a\x00b", "scopes": "read.me"}, **caller)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_characters"


# Database errors: input is not an outage


def test_database_error_caused_by_input_is_a_400_not_an_outage(client, caller):
    with mock.patch(
        "django.db.backends.utils.CursorWrapper.execute",
        side_effect=DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes"),
    ):
        response = client.get("/api/v1/tokens", **caller)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_input"


def test_nul_refused_by_the_driver_is_a_400_not_an_outage(client, caller):
    with mock.patch(
        "django.db.backends.utils.CursorWrapper.execute",
        side_effect=ValueError("A string literal cannot contain NUL (0x00) characters."),
    ):
        response = client.get("/api/v1/tokens", **caller)
    assert response.status_code == 400


def test_database_outage_is_still_a_503(client, caller):
    with mock.patch(
        "django.db.backends.utils.CursorWrapper.execute", side_effect=OperationalError("down")
    ):
        response = client.get("/api/v1/tokens", **caller)
    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"


def test_database_error_caused_by_input_outside_drf_is_a_400(client, db):
    with mock.patch("django.db.backends.utils.CursorWrapper.execute", side_effect=DataError("nul")):
        response = client.post(
            "/o/token/", {"grant_type": "client_credentials", "client_id": "abc"}
        )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_input"


# Size


def test_body_bigger_than_the_upload_limit_is_refused_with_413(client, caller, settings):
    body = json.dumps(
        {"name": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10), "scopes": ["read.me"]}
    )
    response = send(client, "POST", "/api/v1/tokens", body, **caller)
    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"


def test_oversized_oauth_form_is_refused_with_413(client, db, settings):
    response = client.post(
        "/o/token/", {"client_id": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10)}
    )
    assert response.status_code == 413


def test_body_bigger_than_its_content_length_says_is_read_only_to_the_limit(
    client, caller, settings
):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"name": "x" * 2000, "scopes": ["read.me"]})
    response = send(client, "POST", "/api/v1/tokens", body, CONTENT_LENGTH="100", **caller)
    assert response.status_code in (400, 413)


@pytest.mark.parametrize(
    "header", ["HTTP_AUTHORIZATION", "HTTP_X_PADDING", "HTTP_COOKIE", "HTTP_ACCEPT"]
)
def test_huge_header_is_a_4xx_or_ignored(client, caller, header):
    headers = (
        {**caller, header: "Bearer " + "A" * 65536}
        if header == "HTTP_AUTHORIZATION"
        else {**caller, header: "a" * 65536}
    )
    response = client.get("/api/v1/me", **headers)
    assert_json_error(response, "/api/v1/me")


# Malformed credentials and content types


@pytest.mark.parametrize(
    "value",
    [
        "Basic !!!",
        "Basic " + base64.b64encode(b"kw_key_no-colon").decode(),
        "Basic " + base64.b64encode(b"\xff\xfe:\xff").decode(),
        "Basic " + base64.b64encode(b"kw_key_x:kw_sk_y").decode(),
        "Basic",
        "Bearer",
        "Bearer eyJ!!!.x.y",
        "Bearer "
        + "eyJ"
        + base64.urlsafe_b64encode(b'{"kid": 5, "alg": "none"}').decode()
        + ".e30.",
        "Digest x",
    ],
)
def test_malformed_credentials_are_a_401_in_the_error_format(client, db, value):
    response = client.get("/api/v1/me", HTTP_AUTHORIZATION=value)
    assert response.status_code in (400, 401), (value, response.status_code)
    assert_json_error(response, "/api/v1/me")


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/xml",
        "application/json; charset=no-such-charset",
        "multipart/form-data",
        "multipart/form-data; boundary=x",
        "application/x-www-form-urlencoded",
        "",
        "application/json; charset=utf-16",
    ],
)
def test_wrong_content_type_is_a_4xx(client, caller, content_type):
    body = json.dumps({"name": "x", "scopes": ["read.me"]})
    response = send(client, "POST", "/api/v1/tokens", body, content_type=content_type, **caller)
    assert_json_error(response, "/api/v1/tokens")


def test_invalid_utf8_in_a_json_body_is_refused_with_400(client, caller):
    response = send(client, "POST", "/api/v1/tokens", b'{"name": "\xff", "scopes": []}', **caller)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_json"


def test_nan_in_a_json_body_is_refused_with_400(client, caller):
    response = send(client, "POST", "/api/v1/tokens", '{"name": NaN, "scopes": []}', **caller)
    assert response.status_code == 400


def test_api_key_jwt_whose_scope_claim_is_a_list_is_refused_with_401(client, alice, acme):
    key = api_key(client, "alice@acme.test")
    forged = jwt.encode(
        {"scope": ["app"]}, key["secret"], algorithm="HS256", headers={"kid": key["keyId"]}
    )
    response = client.get("/api/v1/me", **bearer(forged))
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_claims"


# OPTIONS everywhere


@pytest.mark.parametrize("with_credential", [False, True], ids=["anonymous", "all-scope token"])
def test_options_on_every_route_is_never_a_5xx(client, caller, with_credential):
    headers = caller if with_credential else {}
    paths = resolver_paths()
    assert len(paths) > 50
    for path in paths:
        response = client.options(path, **headers)
        assert response.status_code < 500, (path, response.status_code)
        if is_api(path) and response.status_code >= 400:
            assert_json_error(response, path)


def test_options_on_a_collection_lists_its_methods(client, caller):
    response = client.options("/api/v1/tokens", **caller)
    assert response.status_code == 200
    assert "POST" in response["Allow"]


def test_every_api_view_parses_with_the_edge_parsers(db):
    """A view that sets its own parser_classes would slip past the depth, shape and character rules."""
    from django.urls import get_resolver

    from portal import parsers

    edge = (parsers.JSONParser, parsers.FormParser, parsers.MultiPartParser)
    views = {}

    def walk(patterns):
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                walk(pattern.url_patterns)
            elif getattr(pattern.callback, "cls", None) is not None:
                views[pattern.callback.cls.__name__] = pattern.callback.cls

    walk(get_resolver().url_patterns)
    assert len(views) > 10
    for name, view in views.items():
        if name in RAW_BODY_VIEWS:
            continue
        for parser in getattr(view, "parser_classes", []):
            assert issubclass(parser, edge), (name, parser)
