"""Reach: another organization's objects answer 404 on every route and change nothing;
account reach spans the group, app reach one organization, appUser one contact."""

import re

import pytest
from django.apps import apps
from django.forms.models import model_to_dict

from accounts.errors import Refused
from tests.factories import bearer, issue, make_delivery, make_review_item
from tokens import scopes as catalog
from tokens.schema import api_operations

pytestmark = pytest.mark.django_db

ADMIN_SCOPES = sorted(catalog.ROLE_BUNDLES["admin"])
PARAM = re.compile(r"\{(\w+)\}")


def _ids(d):
    """Path parameters pointing at Acme's objects, by resource."""
    return {
        "organizations": d.org.public_id,
        "organization-groups": d.org.group_id,
        "users": d.member.pk,
        "conversations": d.chat.pk,
        "contacts": d.contact.pk,
        "knowledge-items": d.knowledge_item.pk,
        "forms": d.form.pk,
        "services": d.service.pk,
        "webhooks": d.webhook.pk,
        "tokens": d.token.pk,
        "credential-reviews": d.review_item.pk,
    }


def _fill(path, d):
    resource = path.split("/")[3]
    values = {
        "id": _ids(d).get(resource),
        "conversation_pk": d.chat.pk,
        "pk": d.message.pk,
        "key": "channel",
        "delivery_id": d.delivery.pk,
    }
    return PARAM.sub(lambda m: str(values[m.group(1)]), path)


def _object_routes():
    """Every operation that names an object (it has a path parameter), except /auth."""
    for path, method, _view in api_operations():
        if "{" in path and "/auth/" not in path:
            yield path, method


VOLATILE = {"last_used_at", "last_used_ip", "updated"}  # the caller's own token records its use


def _snapshot():
    rows = {}
    for model in apps.get_models():
        if (
            model._meta.app_label in {"accounts", "chats", "tokens"}
            and model._meta.model_name != "auditevent"
        ):
            rows[model._meta.label] = sorted(
                repr(sorted((k, v) for k, v in model_to_dict(o).items() if k not in VOLATILE))
                for o in model._default_manager.all()
            )
    return rows


@pytest.fixture
def acme_objects(acme, alice, agent):
    acme.member = agent  # a user of Acme
    acme.token, _ = issue(alice)
    acme.delivery = make_delivery(acme.webhook)
    acme.review_item = make_review_item(acme.token, member=agent)
    return acme


BODIES = {
    "post": {"name": "x", "text": "x", "key": "k", "value": "v"},
    "patch": {"name": "x", "text": "x", "value": "v"},
}


def test_outsider_gets_404_on_every_object_route_and_nothing_changes(
    api, acme_objects, globex, mallory
):
    _t, secret = issue(mallory, scopes=ADMIN_SCOPES)
    before = _snapshot()
    answers = {}
    for path, method in _object_routes():
        url = _fill(path, acme_objects)
        response = getattr(api, method.lower())(
            url, BODIES.get(method.lower()), format="json", **bearer(secret)
        )
        answers[f"{method} {url}"] = response.status_code
    assert len(answers) >= 25
    assert {k: v for k, v in answers.items() if v != 404} == {}
    assert _snapshot() == before


def test_a_credential_lacking_the_scope_gets_403_naming_it_on_every_operation(
    api, acme_objects, alice
):
    from tokens.permissions import required_scopes

    refused = {}
    for path, method, view in api_operations():
        needed = list(required_scopes(view, method))
        if not needed or "/auth/" in path:
            continue
        _t, secret = issue(
            alice, scopes=[s for s in ADMIN_SCOPES if s not in needed] or ["read.me"]
        )
        url = _fill(path, acme_objects) if "{" in path else path
        response = getattr(api, method.lower())(
            url, BODIES.get(method.lower()), format="json", **bearer(secret)
        )
        refused[f"{method} {path}"] = (response.status_code, response.json().get("missingScopes"))
        assert refused[f"{method} {path}"] == (403, needed), f"{method} {path}"
    assert len(refused) >= 40


def test_account_reach_reads_the_groups_other_organization(api, alice, acme, labs):
    _t, secret = issue(alice, scopes=["admin"], reach="account")
    response = api.get(f"/api/v1/conversations/{labs.chat.pk}", **bearer(secret))
    assert response.status_code == 200
    orgs = {o["id"] for o in api.get("/api/v1/organizations", **bearer(secret)).json()["results"]}
    assert orgs == {acme.org.public_id, labs.org.public_id}


def test_app_reach_of_the_same_admin_gets_404_in_the_other_organization(api, alice, acme, labs):
    _t, secret = issue(alice, scopes=["admin"])
    assert api.get(f"/api/v1/conversations/{labs.chat.pk}", **bearer(secret)).status_code == 404
    orgs = {o["id"] for o in api.get("/api/v1/organizations", **bearer(secret)).json()["results"]}
    assert orgs == {acme.org.public_id}


def test_account_reach_is_only_for_group_owners(dev, acme):

    with pytest.raises(Refused) as refused:
        issue(dev, scopes=["bot"], reach="account")
    assert refused.value.code == "reach_not_allowed"


def test_app_user_credential_reads_its_own_contacts_conversation_only(api, alice, acme):
    _t, secret = issue(
        alice, scopes=["admin"], reach="appUser", app_user_id=acme.contact.external_id
    )
    assert api.get(f"/api/v1/conversations/{acme.chat.pk}", **bearer(secret)).status_code == 200
    assert (
        api.get(f"/api/v1/conversations/{acme.other_chat.pk}", **bearer(secret)).status_code == 404
    )
    listed = {c["id"] for c in api.get("/api/v1/conversations", **bearer(secret)).json()["results"]}
    assert listed == {acme.chat.pk}


def test_app_user_credential_sees_only_its_own_messages(api, alice, acme):
    _t, secret = issue(
        alice, scopes=["admin"], reach="appUser", app_user_id=acme.contact.external_id
    )
    own = api.get(f"/api/v1/conversations/{acme.chat.pk}/messages", **bearer(secret))
    other = api.get(
        f"/api/v1/conversations/{acme.other_chat.pk}/messages/{acme.other_message.pk}",
        **bearer(secret),
    )
    assert own.status_code == 200 and len(own.json()["results"]) == 1
    assert other.status_code == 404


def test_guest_reaches_only_the_conversation_of_the_contact_they_chat_as(api, guest, acme):
    _t, secret = issue(guest, scopes=["guest"])
    assert api.get(f"/api/v1/conversations/{acme.chat.pk}", **bearer(secret)).status_code == 200
    assert (
        api.get(f"/api/v1/conversations/{acme.other_chat.pk}", **bearer(secret)).status_code == 404
    )
    posted = api.post(
        f"/api/v1/conversations/{acme.other_chat.pk}/messages",
        {"text": "x"},
        format="json",
        **bearer(secret),
    )
    assert posted.status_code == 404


def test_guest_message_is_authored_by_their_contact(api, guest, acme):
    _t, secret = issue(guest, scopes=["guest"])
    response = api.post(
        f"/api/v1/conversations/{acme.chat.pk}/messages",
        {"text": "hi"},
        format="json",
        **bearer(secret),
    )
    assert response.status_code == 201
    assert response.json()["author"] == f"contact:{acme.contact.external_id}"


def test_posting_as_the_bot_needs_impersonate_bot(api, agent, dev, acme):
    _t, agent_secret = issue(agent, scopes=["agent"])
    refused = api.post(
        f"/api/v1/conversations/{acme.chat.pk}/messages",
        {"text": "x", "asBot": True},
        format="json",
        **bearer(agent_secret),
    )
    assert refused.status_code == 403
    assert refused.json()["missingScopes"] == ["impersonate.bot"]
    _t, bot_secret = issue(dev, scopes=["bot"])
    posted = api.post(
        f"/api/v1/conversations/{acme.chat.pk}/messages",
        {"text": "x", "asBot": True},
        format="json",
        **bearer(bot_secret),
    )
    assert posted.status_code == 201
    assert (
        posted.json()["author"]
        == f"user:{acme.org.memberships.get(user__is_service_account=True).user_id}"
    )


def test_users_read_with_read_users_shows_limited_fields_and_my_orgs_all(api, alice, dev, acme):
    _t, limited = issue(dev, scopes=["read.users"])
    _t, full = issue(alice, scopes=["read.users", "read.my_orgs.users"])
    limited_user = api.get("/api/v1/users", **bearer(limited)).json()["results"][0]
    full_user = api.get("/api/v1/users", **bearer(full)).json()["results"][0]
    assert set(limited_user) == {"id", "name"}
    assert {"email", "role", "developerAccess"} <= set(full_user)


def test_webhook_secret_is_shown_once(api, alice, acme):
    _t, secret = issue(alice, scopes=["admin"])
    created = api.post(
        "/api/v1/webhooks",
        {"url": "https://example.com/h", "eventCategories": ["message"]},
        format="json",
        **bearer(secret),
    )
    assert created.status_code == 201
    signing = created.json()["secret"]
    assert signing.startswith("kw_whsec_")
    again = api.get(f"/api/v1/webhooks/{created.json()['id']}", **bearer(secret))
    assert signing not in again.content.decode() and "secret" not in again.json()
