"""The attacker's view: credentials obtained through the API, routes enumerated from the URL
resolver and the OpenAPI document, never from a list someone has to remember to update."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from tests.factories import PASSWORD, issue, make_delivery, make_member, membership

# Path converters and regex groups of the URL resolver, turned into sample values.
_SAMPLES = {
    "int": "1",
    "str": "x",
    "slug": "x",
    "uuid": "00000000-0000-0000-0000-000000000000",
    "path": "x",
}


def walk_routes(patterns, prefix=""):
    """(route, pattern) for every URL pattern below `patterns`, includes followed."""
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from walk_routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route, pattern


def _concrete(route):
    """`api/v1/tokens/<int:pk>` or a regex route → `/api/v1/tokens/1`."""
    path = re.sub(r"\(\?P<\w+>[^)]*\)", "1", route)
    path = re.sub(r"<(?:(\w+):)?\w+>", lambda m: _SAMPLES.get(m.group(1) or "str", "x"), path)
    path = path.replace("^", "").replace("$", "").replace("\\Z", "").replace("\\.", ".")
    path = re.sub(r"\[[^\]]*\]\+?|\\d\+?|\.\*|\?", "", path)
    return "/" + path


def resolver_paths():
    """Every route of the project as one concrete path (static files and the admin's
    catch-all excepted), sorted and deduplicated."""
    paths = set()
    for route, _pattern in walk_routes(get_resolver().url_patterns):
        path = _concrete(route)
        if path.startswith("/static/"):
            continue
        paths.add(path)
    return sorted(paths)


def is_api(path):
    return path.startswith(("/api/v1/", "/o/"))


@pytest.fixture
def client():
    return APIClient()


def log_in(client, email, password=PASSWORD):
    response = client.post(
        "/api/v1/auth/token", {"email": email, "password": password}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()["token"]


def catalog_scopes(client):
    """Every fine scope the OpenAPI document declares (role bundles left out)."""
    document = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    flow = document["components"]["securitySchemes"]["keyward"]["flows"]["authorizationCode"]
    return sorted(name for name in flow["scopes"] if "." in name)


def all_scope_token(client, email, name="adversary"):
    """A personal token with every scope, created through the API as a user would."""
    login_token = log_in(client, email)
    scopes = catalog_scopes(client)
    response = client.post(
        "/api/v1/tokens",
        {"name": name, "scopes": scopes},
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {login_token}",
    )
    assert response.status_code == 201, response.content
    return response.json()


def api_key(client, email, **fields):
    login_token = log_in(client, email)
    body = {"name": "adversary key", "scopes": catalog_scopes(client), **fields}
    response = client.post(
        "/api/v1/api-keys", body, format="json", HTTP_AUTHORIZATION=f"Bearer {login_token}"
    )
    assert response.status_code == 201, response.content
    return response.json()


METHODS = ("get", "post", "put", "patch", "delete")


def openapi(client):
    return client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()


def operations(document, methods=METHODS):
    """(METHOD, templated path, operation) for every operation of the document."""
    for path, item in sorted(document["paths"].items()):
        for method in methods:
            if method in item:
                yield method.upper(), path, item[method]


def items_of(body):
    if isinstance(body, dict):
        body = body.get("results", [])
    return body if isinstance(body, list) else []


def first_ids(client, headers, path):
    """Fill each `{param}` of a templated path with the first id listed at its prefix, as the
    holder of `headers` sees it; `None` when there is nothing to list there."""
    parts = path.strip("/").split("/")
    filled = []
    for index, part in enumerate(parts):
        if not part.startswith("{"):
            filled.append(part)
            continue
        if part == "{key}":  # conversation attributes are listed inside their conversation
            conversation = client.get("/" + "/".join(filled[:-1]), **headers).json()
            filled.append(next(iter(conversation.get("attributes") or {"none": ""})))
            continue
        listing = client.get("/" + "/".join(filled), **headers)
        found = items_of(listing.json()) if listing.status_code == 200 else []
        if not found:
            return None
        if parts[index + 1 : index + 3] == ["attributes", "{key}"]:
            found = [item for item in found if item.get("attributes")] or found
        filled.append(str(found[0]["id"]))
    return "/" + "/".join(filled)


def bearer(secret):
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def assert_json_error(response, path):
    """An API refusal is JSON with a code and a sentence."""
    assert response.status_code < 500, (path, response.status_code, response.content[:300])
    if response.status_code >= 400 and path.startswith("/api/v1/"):
        body = response.json()
        assert isinstance(body.get("code"), str) and isinstance(body.get("detail"), str), (
            path,
            body,
        )


def own_credentials(client, headers):
    """One API key and one OAuth client, made through the API, so every kind has an id to aim at."""
    key = client.post(
        "/api/v1/api-keys", {"name": "probe key", "scopes": ["read.me"]}, format="json", **headers
    )
    assert key.status_code == 201, key.content
    app = client.post(
        "/api/v1/oauth-clients",
        {"name": "probe app", "redirectUris": ["https://app.test/cb"]},
        format="json",
        **headers,
    )
    assert app.status_code == 201, app.content


def departed_member_and_delivery(org, admin):
    """What the offboarding review and the webhook log hold, made the real way: a developer who
    leaves with a live token opens a review item; a delivery sits in the first webhook's log."""
    from accounts import services as accounts
    from accounts.models import Role

    leaver = make_member(org, f"leaver@{org.slug}.test", Role.BOT, developer_access=True)
    issue(leaver, org, name="left behind")
    accounts.remove_member(membership=membership(leaver, org), by=admin)
    make_delivery(org.webhooks.order_by("pk").first())
