"""Tenancy for request bodies as for URLs: an object a body names is looked up inside the
caller's reach, and one outside it is answered exactly like one that does not exist."""

import importlib
import pkgutil

import pytest
from rest_framework import serializers
from rest_framework.relations import ManyRelatedField, RelatedField

import chats.api
from tests.factories import bearer, issue

pytestmark = pytest.mark.django_db

# Every writable body field that names another object, and the test that holds it to the rule.
REFERENCES = {
    "ConversationSerializer.contact_id": "test_body_id_of_another_org_is_answered_like_a_nonexistent_one",
}


def _writable_references():
    for info in pkgutil.iter_modules(chats.api.__path__):
        module = importlib.import_module(f"chats.api.{info.name}")
        for name, cls in vars(module).items():
            if not (
                isinstance(cls, type)
                and issubclass(cls, serializers.Serializer)
                and cls.__module__ == module.__name__
            ):
                continue
            for field_name, field in cls().fields.items():
                if isinstance(field, RelatedField | ManyRelatedField) and not field.read_only:
                    yield f"{name}.{field_name}"


def test_every_body_field_that_names_an_object_has_a_tenancy_test():
    assert set(_writable_references()) == set(REFERENCES)
    assert all(name in globals() for name in REFERENCES.values())


def _errors_with_value_blanked(response, value):
    return response.status_code, response.content.decode().replace(value, "<value>")


def test_body_id_of_another_org_is_answered_like_a_nonexistent_one(api, alice, acme, globex):
    _t, secret = issue(alice, scopes=["admin"])
    foreign, missing = globex.contact.external_id, "no-such-contact"
    answers = [
        _errors_with_value_blanked(
            api.post(
                "/api/v1/conversations",
                {"subject": "x", "contactId": value},
                format="json",
                **bearer(secret),
            ),
            value,
        )
        for value in (foreign, missing)
    ]
    assert answers[0] == answers[1]
    assert answers[0][0] == 400
    assert not acme.org.conversations.filter(contact=globex.contact).exists()


def test_a_body_cannot_attach_another_orgs_contact_to_a_conversation(api, alice, acme, globex):
    _t, secret = issue(alice, scopes=["admin"])
    response = api.patch(
        f"/api/v1/conversations/{acme.chat.pk}",
        {"contactId": globex.contact.external_id},
        format="json",
        **bearer(secret),
    )
    assert response.status_code == 400
    acme.chat.refresh_from_db()
    assert acme.chat.contact == acme.contact


def test_account_reach_names_contacts_of_the_conversations_own_organization_only(
    api, alice, acme, labs
):
    _t, secret = issue(alice, scopes=["admin"], reach="account")
    response = api.patch(
        f"/api/v1/conversations/{labs.chat.pk}",
        {"contactId": acme.contact.external_id},
        format="json",
        **bearer(secret),
    )
    assert response.status_code == 400
    labs.chat.refresh_from_db()
    assert labs.chat.contact == labs.contact
    fine = api.patch(
        f"/api/v1/conversations/{labs.chat.pk}",
        {"contactId": labs.other_contact.external_id},
        format="json",
        **bearer(secret),
    )
    assert fine.status_code == 200


def test_a_one_contact_credential_names_no_other_contact(api, alice, acme):
    _t, secret = issue(
        alice, scopes=["admin"], reach="appUser", app_user_id=acme.contact.external_id
    )
    response = api.patch(
        f"/api/v1/conversations/{acme.chat.pk}",
        {"contactId": acme.other_contact.external_id},
        format="json",
        **bearer(secret),
    )
    assert response.status_code == 400
    acme.chat.refresh_from_db()
    assert acme.chat.contact == acme.contact


def test_account_reach_checks_a_contacts_external_id_within_its_own_organization(
    api, alice, acme, labs
):
    _t, secret = issue(alice, scopes=["admin"], reach="account")
    response = api.patch(
        f"/api/v1/contacts/{labs.contact.pk}",
        {"externalId": labs.other_contact.external_id},
        format="json",
        **bearer(secret),
    )
    assert response.status_code == 400
    assert "externalId" in response.json()["errors"]
