"""Tenancy, swept over the OpenAPI document: another organization's object, named in the URL
or in the body, is answered exactly like one that does not exist, and nothing of it changes.

Every operation with a path parameter and every writable body field that names an object
is probed; a new route or field joins by construction (a field this file cannot fill fails
`test_every_body_field_that_names_an_object_has_a_probe`).
"""

import json
import re

import pytest
from django.apps import apps
from drf_spectacular.generators import SchemaGenerator

from accounts.models import Organization, Role
from tests.factories import PASSWORD, make_member

from .conftest import (
    all_scope_token,
    bearer,
    departed_member_and_delivery,
    first_ids,
    log_in,
    own_credentials,
)

pytestmark = pytest.mark.django_db

MISSING_INT = "987654321"
MISSING_BY_PATTERN = {r"^org_[A-Za-z0-9]+$": "org_doesnotexist0", r"^\d+$": MISSING_INT}
APPS = ("accounts", "tokens", "chats", "oauth2_provider")


def _document():
    return SchemaGenerator().get_schema(request=None, public=True)


DOCUMENT = _document()
SCHEMAS = DOCUMENT["components"]["schemas"]


def _operations():
    for path, item in sorted(DOCUMENT["paths"].items()):
        for method in ("get", "post", "patch", "put", "delete"):
            if method in item:
                yield method.upper(), path, item[method]


def _writable_fields(operation):
    body = (
        operation.get("requestBody", {})
        .get("content", {})
        .get("application/json", {})
        .get("schema")
    )
    if not body:
        return {}
    if "$ref" not in body:
        # Only the signed leak reports (an array of found secrets) are not an object: a reported
        # secret of any organization is revoked on purpose, and nothing else is named.
        assert (
            body.get("type") == "array" and operation["operationId"] == "secret_scanning_report"
        ), operation
        return {}
    schema = SCHEMAS[body["$ref"].rsplit("/", 1)[-1]]
    return {
        name: spec
        for name, spec in schema.get("properties", {}).items()
        if not spec.get("readOnly")
    }


ROUTES_WITH_IDS = [(m, p) for m, p, _op in _operations() if "{" in p]
# A field names an object when it is an id, an email, or one of these words.
NAMES_AN_OBJECT = re.compile(
    r"(Id|Ids)$|^(owner|organization|group|contact|user|email|token|externalId)$"
)
BODY_FIELDS = [
    (m, p, name)
    for m, p, op in _operations()
    for name, spec in _writable_fields(op).items()
    if NAMES_AN_OBJECT.search(name) or spec.get("format") == "email"
]


def missing_path(path):
    """The same route, every parameter naming something that does not exist."""
    params = {}
    for _method, templated, operation in _operations():
        if templated == path:
            params.update(
                {
                    x["name"]: x["schema"]
                    for x in operation.get("parameters", [])
                    if x["in"] == "path"
                }
            )

    def fill(match):
        schema = params.get(match.group(1), {})
        if schema.get("type") == "integer":
            return MISSING_INT
        return MISSING_BY_PATTERN.get(schema.get("pattern", ""), "doesnotexist")

    return re.sub(r"\{(\w+)\}", fill, path)


def snapshot(org):
    """Every row that belongs to `org`, found through the first relation that leads to it."""
    rows = {}
    for model in apps.get_models():
        if model._meta.app_label not in APPS:
            continue
        lookup = _path_to_organization(model)
        if lookup is None:
            continue
        queryset = (
            model.objects.filter(**{lookup: org.pk}) if lookup else model.objects.filter(pk=org.pk)
        )
        rows[model._meta.label] = list(queryset.order_by("pk").values())
    return rows


def _path_to_organization(model, depth=0):
    if model is Organization:
        return "pk"
    if depth > 2:
        return None
    for field in model._meta.get_fields():
        if (
            (field.many_to_one or field.one_to_one)
            and field.concrete
            and field.related_model is not None
        ) and field.related_model is Organization:
            return f"{field.name}_id"
    for field in model._meta.get_fields():
        if (
            (field.many_to_one or field.one_to_one)
            and field.concrete
            and field.related_model not in (None, model)
        ):
            deeper = _path_to_organization(field.related_model, depth + 1)
            if deeper and deeper != "pk":
                return f"{field.name}__{deeper}"
    if model._meta.label == "accounts.User":
        return "memberships__organization_id"
    if model._meta.label == "accounts.OrganizationGroup":
        return "organizations__id"
    return None


# Fields that differ between any two successful creates, whatever they name.
_INCIDENTAL = {
    "id",
    "createdAt",
    "updatedAt",
    "token",
    "secret",
    "last4",
    "keyId",
    "secretLast4",
    "clientId",
    "clientSecret",
    "refreshToken",
    "expiresAt",
    "userId",
}


def answer(response):
    body = (
        response.json() if response.get("Content-Type", "").startswith("application/json") else {}
    )
    return response.status_code, body.get("code") if isinstance(body, dict) else None


def success_shape(response, sent):
    """A 2xx body with incidental fields dropped and the value the caller sent masked: what is left
    may not depend on whether the named object exists (a name, a role, an organization…)."""
    if response.status_code >= 300 or not response.content:
        return None
    body = response.json()
    if not isinstance(body, dict):
        return body
    return {
        key: "<sent>" if value == sent else value
        for key, value in body.items()
        if key not in _INCIDENTAL
    }


# A body that would change something, for writes.
PROBE_BODY = {
    "name": "pwned",
    "title": "pwned",
    "subject": "pwned",
    "text": "pwned",
    "value": "pwned",
    "slug": "pwned",
    "gracePeriod": "none",
}


def call(client, method, path, headers, body=None):
    if body is None and method in ("POST", "PATCH", "PUT"):
        body = PROBE_BODY
    data = json.dumps(body) if body is not None else ""
    return client.generic(method, path, data, content_type="application/json", **headers)


@pytest.fixture
def world(client, alice, agent, acme, labs, globex, mallory):
    """Acme with one object of every kind (platform data, a token, an API key, an OAuth client,
    a login session); Globex's admin and Acme Labs' admin (same group, not an owner) with
    all-scope tokens."""
    acme_headers = bearer(all_scope_token(client, "alice@acme.test")["token"])
    own_credentials(client, acme_headers)
    alice_login = client.post(
        "/api/v1/auth/token", {"email": "alice@acme.test", "password": PASSWORD}, format="json"
    ).json()
    labs_admin = make_member(labs.org, "admin@labs.test", Role.ADMIN, developer_access=True)
    outsider = bearer(all_scope_token(client, "mallory@globex.test")["token"])
    mallory_login = log_in(client, "mallory@globex.test")
    own_credentials(client, outsider)
    departed_member_and_delivery(acme.org, alice)
    departed_member_and_delivery(globex.org, mallory)
    departed_member_and_delivery(labs.org, labs_admin)
    return {
        "acme": acme_headers,
        "acme_org": acme.org,
        "acme_login": alice_login["token"],
        "acme_values": {
            "owner": "bot@acme.test",
            "email": "agent@acme.test",
            # contactId takes a contact's external id, not its primary key.
            "contactId": acme.contact.external_id,
            "appUserId": acme.contact.external_id,
            "externalId": acme.contact.external_id,
            "organization": acme.org.public_id,
            "token": alice_login["refreshToken"],
            "clientId": "alice@acme.test",
        },
        "missing_values": {
            "owner": "nobody@nowhere.test",
            "email": "nobody@nowhere.test",
            "contactId": "no-such-contact",
            "appUserId": "no-such-contact",
            "externalId": "no-such-contact",
            "organization": "org_doesnotexist0",
            "token": "kw_rt_doesnotexist",
            "clientId": "nobody@nowhere.test",
        },
        "outsider": outsider,
        "labs_admin": bearer(all_scope_token(client, "admin@labs.test")["token"]),
        "mallory_login": mallory_login,
        "mallory_login_headers": bearer(mallory_login),
        "mallory_refresh": client.post(
            "/api/v1/auth/token",
            {"email": "mallory@globex.test", "password": PASSWORD},
            format="json",
        ).json()["refreshToken"],
    }


def test_every_operation_with_an_id_is_swept():
    assert len(ROUTES_WITH_IDS) > 30


def test_every_body_field_that_names_an_object_has_a_probe(client, world):
    for _method, _path, name in BODY_FIELDS:
        assert name in world["acme_values"], (
            f"no probe value for body field {name!r}: add one to `world`"
        )


def test_the_contact_probes_name_a_contact_acme_itself_may_use(client, world):
    """A probe value that names nothing is answered like a missing one whoever sends it, so the
    sweep could never fail: for its owner, Acme's value must name a real contact."""
    body = {"subject": "probe"}
    mine = call(
        client,
        "POST",
        "/api/v1/conversations",
        world["acme"],
        {**body, "contactId": world["acme_values"]["contactId"]},
    )
    missing = call(
        client,
        "POST",
        "/api/v1/conversations",
        world["acme"],
        {**body, "contactId": world["missing_values"]["contactId"]},
    )
    assert mine.status_code == 201, mine.content
    assert missing.status_code == 400, missing.content


def acme_targets(client, world):
    """(METHOD, templated path, Acme's concrete path, which outsider credential to use), found by Acme's
    own listings before anything is measured (listing records last-use on Acme's credentials)."""
    targets, skipped = [], []
    for method, path in ROUTES_WITH_IDS:
        # Login sessions are reached with login tokens; everything else with the all-scope tokens.
        acme, outsider = world["acme"], "outsider"
        if path.startswith("/api/v1/auth/"):
            acme, outsider = bearer(world["acme_login"]), "mallory_login_headers"
        acme_path = first_ids(client, acme, path)
        if acme_path is None:
            skipped.append(path)  # Acme has none of these (OAuth grants need a browser flow)
        else:
            targets.append((method, path, acme_path, outsider))
    assert set(skipped) <= {"/api/v1/oauth-tokens/{id}"}, skipped
    return targets


def test_outsider_gets_the_nonexistent_answer_for_every_acme_id_and_changes_nothing(client, world):
    targets = acme_targets(client, world)
    before = snapshot(world["acme_org"])
    differences = []
    for method, path, acme_path, outsider in targets:
        theirs = call(client, method, acme_path, world[outsider])
        missing = call(client, method, missing_path(path), world[outsider])
        if answer(theirs) != answer(missing):
            differences.append((method, acme_path, answer(theirs), answer(missing)))
    assert differences == []
    assert snapshot(world["acme_org"]) == before


# Body fields: the outsider writes to its own objects, naming Acme's in the body.

KNOWN_BODY_LEAKS = {}  # (method, path, field) → why it is still expected to fail


def _body_field_params():
    for caller in ("outsider", "labs_admin"):
        for method, path, name in BODY_FIELDS:
            if caller == "labs_admin" and path.startswith("/api/v1/auth/"):
                continue  # logins are per person, not per organization: the outsider covers them
            reason = KNOWN_BODY_LEAKS.get((method, path, name))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            yield pytest.param(
                caller, method, path, name, marks=marks, id=f"{caller} {method} {path} {name}"
            )


@pytest.mark.parametrize(("caller", "method", "path", "field"), list(_body_field_params()))
def test_body_field_naming_an_acme_object_is_answered_like_a_nonexistent_one(
    client, world, caller, method, path, field
):
    headers = world[caller]
    if path.startswith("/api/v1/auth/"):
        headers = bearer(world["mallory_login"])
    target = path if "{" not in path else first_ids(client, headers, path)
    assert target, f"{caller} has nothing at {path} to write to"
    extra = {"reach": "appUser"} if field == "appUserId" else {}
    if path == "/api/v1/auth/token":
        # A login naming someone else's email must not tell whether it exists (wrong password);
        # a refresh naming someone else's clientId must fail like an unknown one.
        extra = {
            "email": "mallory@globex.test",
            "password": "not-the-password" if field == "email" else PASSWORD,
        }
        if field == "clientId":
            extra = {"refreshToken": world["mallory_refresh"]}
    base = {**PROBE_BODY, "scopes": ["read.me"], "redirectUris": ["https://x.test/cb"], **extra}
    before = snapshot(world["acme_org"])
    theirs = call(client, method, target, headers, {**base, field: world["acme_values"][field]})
    missing = call(client, method, target, headers, {**base, field: world["missing_values"][field]})
    assert answer(theirs) == answer(missing), (theirs.content[:300], missing.content[:300])
    assert success_shape(theirs, world["acme_values"][field]) == success_shape(
        missing, world["missing_values"][field]
    )
    assert theirs.status_code < 500 and missing.status_code < 500
    assert snapshot(world["acme_org"]) == before


# Same group, not an owner: Acme Labs' admin on Acme Group.


def test_same_group_non_owner_cannot_change_the_group(client, world):
    before = snapshot(world["acme_org"])
    group_id = world["acme_org"].group_id
    refused = []
    for method, path in ROUTES_WITH_IDS:
        if not path.startswith("/api/v1/organization-groups/") or method == "GET":
            continue
        mine = path.replace("{id}", str(group_id))
        response = call(client, method, mine, world["labs_admin"])
        refused.append((method, response.status_code in (403, 404)))
    assert refused and all(ok for _method, ok in refused), refused
    assert snapshot(world["acme_org"]) == before


def test_same_group_non_owner_gets_the_nonexistent_answer_for_acme_ids(client, world):
    targets = [
        t
        for t in acme_targets(client, world)
        if not t[1].startswith(("/api/v1/organization-groups/", "/api/v1/auth/"))
    ]
    before = snapshot(world["acme_org"])
    differences = []
    for method, path, acme_path, _outsider in targets:
        # Acme Group is Acme Labs' group too: its rules are the test above. Sessions are per person.
        theirs = call(client, method, acme_path, world["labs_admin"])
        missing = call(client, method, missing_path(path), world["labs_admin"])
        if answer(theirs) != answer(missing):
            differences.append((method, acme_path, answer(theirs), answer(missing)))
    assert differences == []
    assert snapshot(world["acme_org"]) == before
