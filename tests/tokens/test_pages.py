"""The portal's credential flow (tokens.pages), once per kind from the same table.

What used to be written per kind (outsiders get 404 on every route, a colleague's credential
is a 404, no developer access is a 403, the result page is never cached) is here, once.

Each row is a kind's pages and how to make one of its credentials; every route a kind's
pages declare is walked from `pages.actions`, so a new kind in the table gets the tenancy,
access, secret-once, no-store, double-submit and delete tests for free.
"""

from dataclasses import dataclass, field

import pytest
from django.urls import reverse

from chats.models import Webhook
from tests.factories import issue, login, make_api_key, make_client
from tests.tokens.oauth.helpers import REDIRECT_URI
from tokens import pages
from tokens.api_keys.views import api_key_pages
from tokens.handoff import SUBMISSION_FIELD
from tokens.oauth.views import client_pages
from tokens.personal.views import token_pages

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@dataclass(frozen=True)
class Kind:
    pages: pages.CredentialPages
    make: object  # user -> a live credential of the kind, made through its service
    create: dict  # a valid create form
    rotate: dict = field(default_factory=dict)  # a valid rotate form

    def __str__(self):
        return self.pages.name


KINDS = [
    Kind(
        token_pages,
        lambda user: issue(user)[0],
        {"name": "ci", "expiry": "30", "scopes": ["read.me"]},
        {"grace_period": "none"},
    ),
    Kind(
        api_key_pages,
        lambda user: make_api_key(user, scopes=("read.me",))[0],
        {"name": "server", "scopes": ["read.me"]},
        {"grace": "1h"},
    ),
    Kind(
        client_pages,
        lambda user: make_client(user)[0],
        {"name": "Reporting app", "redirect_uris": REDIRECT_URI, "client_type": "confidential"},
    ),
]
each_kind = pytest.mark.parametrize("kind", KINDS, ids=str)


def routes(kind):
    """(action, method, takes an object id) for every route the kind's pages declare."""
    for action in kind.pages.actions:
        route, methods, _ = pages.ROUTES[action]
        for method in methods:
            yield action, method.lower(), "{id}" in kind.pages.routes.get(action, route)


def route_url(kind, action, org, obj):
    args = [org.public_id, obj.pk] if obj is not None else [org.public_id]
    return reverse(kind.pages.url_name(action), args=args)


def snapshot(obj):
    return type(obj).objects.filter(pk=obj.pk).values().first()


def hostile(kind):
    return {**kind.create, **kind.rotate, "name": "pwned"}


@each_kind
@pytest.mark.parametrize(
    "who, owner, status, only_by_id",
    [
        pytest.param("mallory", "dev", 404, False, id="outsider-404"),
        pytest.param("dev", "alice", 404, True, id="colleagues-credential-404-like-a-missing-one"),
        pytest.param("agent", "dev", 403, False, id="no-developer-access-403"),
    ],
)
def test_who_may_not_gets_the_same_answer_on_every_route_and_nothing_changes(
    request, client, org, kind, who, owner, status, only_by_id
):
    obj = kind.make(request.getfixturevalue(owner))
    before, count = snapshot(obj), type(obj).objects.count()
    login(client, request.getfixturevalue(who))
    for action, method, by_id in routes(kind):
        if only_by_id and not by_id:
            continue
        url = route_url(kind, action, org, obj if by_id else None)
        response = getattr(client, method)(url, hostile(kind))
        assert response.status_code == status, (action, method)
        assert "pwned" not in response.content.decode()
    assert snapshot(obj) == before and type(obj).objects.count() == count


@each_kind
def test_created_secret_is_shown_once_on_a_result_page_no_cache_keeps(client, dev, org, kind):
    login(client, dev)
    response = client.post(route_url(kind, "create", org, None), kind.create)
    assert response.status_code == 303
    first = client.get(response["Location"])
    assert first.status_code == 200 and first["Cache-Control"] == "no-store"
    secret = first.context["secret"]
    assert secret and secret in first.content.decode()
    again = client.get(response["Location"])
    assert again["Cache-Control"] == "no-store"
    assert "already shown" in again.content.decode() and secret not in again.content.decode()


@each_kind
def test_rotated_secret_is_shown_once_on_a_result_page_no_cache_keeps(client, dev, org, kind):
    obj = kind.make(dev)
    login(client, dev)
    response = client.post(route_url(kind, "rotate", org, obj), kind.rotate)
    assert response.status_code == 303
    first = client.get(response["Location"])
    assert first.status_code == 200 and first["Cache-Control"] == "no-store"
    assert first.context["secret"] in first.content.decode()


@each_kind
def test_a_repeated_create_submission_creates_once_and_leads_to_the_same_page(
    client, dev, org, kind
):
    login(client, dev)
    form = {**kind.create, SUBMISSION_FIELD: "one-click"}
    first = client.post(route_url(kind, "create", org, None), form)
    count = kind.pages.model.objects.count()
    second = client.post(route_url(kind, "create", org, None), form)
    assert first.status_code == second.status_code == 303
    assert second["Location"] == first["Location"]
    assert kind.pages.model.objects.count() == count


@each_kind
def test_delete_asks_first_then_deletes_and_returns_to_the_list(client, dev, org, kind):
    obj = kind.make(dev)
    before = snapshot(obj)
    login(client, dev)
    confirm = client.get(route_url(kind, "delete", org, obj))
    assert confirm.status_code == 200 and "cannot be undone" in confirm.content.decode()
    assert snapshot(obj) == before
    response = client.post(route_url(kind, "delete", org, obj))
    assert response.status_code == 302
    assert response["Location"] == route_url(kind, "list", org, None)
    assert snapshot(obj) != before


@each_kind
def test_with_htmx_the_list_is_its_fragment_alone_and_caches_keep_them_apart(
    client, dev, org, kind
):
    kind.make(dev)
    login(client, dev)
    page = client.get(route_url(kind, "list", org, None))
    fragment = client.get(route_url(kind, "list", org, None), headers=HTMX)
    assert page.status_code == fragment.status_code == 200
    assert "<html" in page.content.decode() and "<html" not in fragment.content.decode()
    assert "HX-Request" in fragment["Vary"]


def test_the_webhook_result_page_sends_no_store_like_every_kinds(client, alice, org):
    """The webhook's signing secret too: one "do not cache" for every page showing a secret."""
    login(client, alice)
    response = client.post(
        reverse("webhook_create", args=[org.public_id]),
        {"url": "https://hooks.example.com/k", "event_categories": ["credentials"]},
    )
    webhook = Webhook.objects.get(organization=org)
    assert response["Location"] == reverse("webhook_secret", args=[org.public_id, webhook.pk])
    assert client.get(response["Location"])["Cache-Control"] == "no-store"
