"""The OpenAPI document at /api/schema/ is one that third-party tools accept as it is served."""

import pytest
from openapi_spec_validator import validate

from tests.factories import bearer, issue

pytestmark = pytest.mark.django_db

BODY_METHODS = ("post", "put", "patch")


@pytest.fixture
def document(client):
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield path, method, operation


def test_document_is_valid_for_openapi_spec_validator(document):
    validate(document)


def test_document_names_the_configured_origin_as_its_server(document, settings):
    assert document["servers"] == [{"url": settings.OAUTH_ISSUER}]
    assert settings.OAUTH_ISSUER.startswith(("http://", "https://"))


def test_every_request_body_is_json_only(document):
    """A client generator given three content types sends multipart with every field twice."""
    bodies = {
        f"{method.upper()} {path}": list(operation["requestBody"]["content"])
        for path, method, operation in operations(document)
        if "requestBody" in operation
    }
    assert len(bodies) > 20
    assert {media for media in bodies.values() if media != ["application/json"]} == set(), bodies


def test_no_default_breaks_its_own_schema(document):
    """A default a client sends back must pass the constraints beside it (the `name: ""` case)."""
    broken = []
    for name, schema in document["components"]["schemas"].items():
        for field, prop in schema.get("properties", {}).items():
            default = prop.get("default")
            if isinstance(default, str) and len(default) < prop.get("minLength", 0):
                broken.append(f"{name}.{field}")
    assert broken == []


@pytest.mark.parametrize("form", ["multipart", "urlencoded"])
def test_form_body_on_the_api_is_refused_with_415(api, alice, form):
    _token, secret = issue(alice, scopes=["create.tokens"])
    body = {"name": "x", "scopes": "read.me"}
    if form == "multipart":
        response = api.post("/api/v1/tokens", body, format="multipart", **bearer(secret))
    else:
        response = api.post(
            "/api/v1/tokens",
            "name=x&scopes=read.me",
            content_type="application/x-www-form-urlencoded",
            **bearer(secret),
        )
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"
