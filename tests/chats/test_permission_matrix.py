"""web1on1's permission matrix, one test per cell, each with a credential carrying just one role bundle.

The table is copied from the seed (shared/seeds/001_*); "Delete other resource"
is spelled out per resource. A `+` cell must succeed (2xx), a `-` cell must be
refused with 403 insufficient_scope.
"""

import pytest

from tests.factories import bearer, issue

pytestmark = pytest.mark.django_db

MATRIX = """
List organizations              - - + +
List organization groups        - - + +
List users                      - - + +
List conversations              - + + +
List messages                   - - + +
List contacts                   - + + +
List knowledge items            - + + +
List forms                      - - + +
List services                   - - - +
Fetch organization              - - + +
Fetch organizationGroup         - - + +
Fetch user details (self)       + + + +
Fetch user details              - - + +
Fetch conversations details     + + + +
Fetch message                   - - + +
Fetch contact                   - - + +
Fetch knowledge item            - + + +
Fetch form                      - - - +
Fetch service                   - - - +
Create organization             - - - +
Create organizationGroup        - - - +
Create user                     - - - +
Create conversation             - + + +
Create message                  + + + +
Create contact                  - - + +
Create knowledge item           - + + +
Create form                     - - + +
Create service                  - - - +
Update organization             - - - +
Update organizationGroups       - - - +
Update user details (self)      + + + +
Update user details             - - - +
Update conversation             - - - +
Update message                  - - + +
Update contact                  - - + +
Update knowledge item           - + + +
Update form                     - - + +
Update service                  - - - +
Delete knowledge item           - - + +
Delete organization             - - - +
Delete organizationGroup        - - - +
Delete user                     - - - +
Delete conversation             - - - +
Delete message                  - - - +
Delete contact                  - - - +
Delete form                     - - - +
Delete service                  - - - +
"""
ROLES = ["guest", "agent", "bot", "admin"]


def _cells():
    for line in MATRIX.strip().splitlines():
        *words, g, a, b, ad = line.split()
        for role, mark in zip(ROLES, (g, a, b, ad), strict=True):
            yield " ".join(words), role, mark == "+"


def _request(row, d):
    """(method, path, body) for a matrix row, aimed at Acme's objects (the guest's own chat where it matters)."""
    return {**_reads(d), **_writes(d)}[row]


def _reads(d):
    org, chat, msg = d.org.public_id, d.chat.pk, d.message.pk
    return {
        "List organizations": ("get", "/api/v1/organizations", None),
        "List organization groups": ("get", "/api/v1/organization-groups", None),
        "List users": ("get", "/api/v1/users", None),
        "List conversations": ("get", "/api/v1/conversations", None),
        "List messages": ("get", f"/api/v1/conversations/{chat}/messages", None),
        "List contacts": ("get", "/api/v1/contacts", None),
        "List knowledge items": ("get", "/api/v1/knowledge-items", None),
        "List forms": ("get", "/api/v1/forms", None),
        "List services": ("get", "/api/v1/services", None),
        "Fetch organization": ("get", f"/api/v1/organizations/{org}", None),
        "Fetch organizationGroup": ("get", f"/api/v1/organization-groups/{d.org.group_id}", None),
        "Fetch user details (self)": ("get", "/api/v1/users/self", None),
        "Fetch user details": ("get", f"/api/v1/users/{d.other_user.pk}", None),
        "Fetch conversations details": ("get", f"/api/v1/conversations/{chat}", None),
        "Fetch message": ("get", f"/api/v1/conversations/{chat}/messages/{msg}", None),
        "Fetch contact": ("get", f"/api/v1/contacts/{d.other_contact.pk}", None),
        "Fetch knowledge item": ("get", f"/api/v1/knowledge-items/{d.knowledge_item.pk}", None),
        "Fetch form": ("get", f"/api/v1/forms/{d.form.pk}", None),
        "Fetch service": ("get", f"/api/v1/services/{d.service.pk}", None),
    }


def _writes(d):
    org, chat, msg = d.org.public_id, d.chat.pk, d.message.pk
    return {
        "Create organization": (
            "post",
            "/api/v1/organizations",
            {"name": "New", "slug": "new-org"},
        ),
        "Create organizationGroup": (
            "post",
            "/api/v1/organization-groups",
            {"name": "G", "slug": "new-group"},
        ),
        "Create user": ("post", "/api/v1/users", {"email": "new@acme.test", "role": "agent"}),
        "Create conversation": ("post", "/api/v1/conversations", {"subject": "new"}),
        "Create message": ("post", f"/api/v1/conversations/{chat}/messages", {"text": "hello"}),
        "Create contact": (
            "post",
            "/api/v1/contacts",
            {"externalId": "new-contact", "name": "New"},
        ),
        "Create knowledge item": ("post", "/api/v1/knowledge-items", {"title": "New"}),
        "Create form": ("post", "/api/v1/forms", {"name": "New"}),
        "Create service": ("post", "/api/v1/services", {"name": "New"}),
        "Update organization": ("patch", f"/api/v1/organizations/{org}", {"name": "Renamed"}),
        "Update organizationGroups": (
            "patch",
            f"/api/v1/organization-groups/{d.org.group_id}",
            {"name": "R"},
        ),
        "Update user details (self)": ("patch", "/api/v1/users/self", {"name": "Me"}),
        "Update user details": ("patch", f"/api/v1/users/{d.other_user.pk}", {"name": "Renamed"}),
        "Update conversation": ("patch", f"/api/v1/conversations/{chat}", {"subject": "renamed"}),
        "Update message": (
            "patch",
            f"/api/v1/conversations/{chat}/messages/{msg}",
            {"text": "edited"},
        ),
        "Update contact": ("patch", f"/api/v1/contacts/{d.other_contact.pk}", {"name": "Renamed"}),
        "Update knowledge item": (
            "patch",
            f"/api/v1/knowledge-items/{d.knowledge_item.pk}",
            {"title": "R"},
        ),
        "Update form": ("patch", f"/api/v1/forms/{d.form.pk}", {"name": "Renamed"}),
        "Update service": ("patch", f"/api/v1/services/{d.service.pk}", {"name": "Renamed"}),
        "Delete knowledge item": ("delete", f"/api/v1/knowledge-items/{d.knowledge_item.pk}", None),
        "Delete organization": ("delete", f"/api/v1/organizations/{org}", None),
        "Delete organizationGroup": (
            "delete",
            f"/api/v1/organization-groups/{d.org.group_id}",
            None,
        ),
        "Delete user": ("delete", f"/api/v1/users/{d.other_user.pk}", None),
        "Delete conversation": ("delete", f"/api/v1/conversations/{chat}", None),
        "Delete message": ("delete", f"/api/v1/conversations/{chat}/messages/{msg}", None),
        "Delete contact": ("delete", f"/api/v1/contacts/{d.other_contact.pk}", None),
        "Delete form": ("delete", f"/api/v1/forms/{d.form.pk}", None),
        "Delete service": ("delete", f"/api/v1/services/{d.service.pk}", None),
    }


@pytest.fixture
def people(alice, dev, agent, guest):
    return {"admin": alice, "bot": dev, "agent": agent, "guest": guest}


@pytest.mark.parametrize("row,role,allowed", list(_cells()))
def test_matrix_cell(api, acme, people, row, role, allowed):
    acme.other_user = people["agent" if role != "agent" else "bot"]
    _token, secret = issue(people[role], scopes=[role])
    method, path, body = _request(row, acme)
    response = getattr(api, method)(path, body, format="json", **bearer(secret))
    if allowed:
        assert 200 <= response.status_code < 300, (response.status_code, response.content[:300])
    else:
        assert response.status_code == 403, (response.status_code, response.content[:300])
        assert response.json()["code"] == "insufficient_scope"


def test_the_table_covers_every_resource_and_action():
    rows = {line.split("  ")[0].strip() for line in MATRIX.strip().splitlines()}
    assert len(rows) == 47
    assert len(list(_cells())) == 47 * 4
