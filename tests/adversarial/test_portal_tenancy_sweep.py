"""Tenancy in the portal, swept over the URL resolver: Globex's admin, on Globex's own pages,
names an Acme object's id in the URL and gets exactly what a missing id gets (a 404), and
nothing of Acme changes.

The outsider's own organization URL matters: at Acme's URL the membership gate answers 404
before any object is looked up, so only this probe reaches the lookups themselves. Every
portal route that takes an object id is probed, once per id it takes (the other ids are
Globex's own), with GET and POST; a new route joins by construction, and a parameter this
file has no Acme object for fails `test_every_object_parameter_has_an_acme_object`.
"""

import re

import pytest
from django.urls import get_resolver

from accounts import services as accounts
from accounts.models import Invitation, Membership, Role
from chats.models import WebhookDelivery
from tests.factories import issue, login_pair, make_api_key, make_client, make_member
from tests.tokens.oauth.helpers import grant
from tokens.models import AccessToken, ReviewItem

from .conftest import departed_member_and_delivery, walk_routes
from .test_tenancy_sweep import snapshot

pytestmark = pytest.mark.django_db

ORG = "<str:org_id>"
PARAMETER = re.compile(r"<(?:(\w+):)?(\w+)>")
MISSING = {"int": "987654321", "uuid": "00000000-0000-0000-0000-000000000000"}
# What a POST carries: enough for every form to act if the lookup let it through.
FORM = {
    "name": "pwned",
    "role": "agent",
    "developer_access": "",
    "grace_period": "none",
    "confirm": "yes",
    "redirect_uris": "https://pwned.test/cb",
    "owner": "",
}


def object_routes():
    """Every portal route under an organization that also takes an object's id."""
    return sorted(
        {
            route
            for route, _pattern in walk_routes(get_resolver().url_patterns)
            if route.startswith(f"orgs/{ORG}/") and len(PARAMETER.findall(route)) > 1
        }
    )


def objects_of(org, admin, developer):
    """One object of every kind the portal names by id, in `org`, made through the real services:
    {URL parameter: its id}."""
    token, _ = issue(developer, org, name="portal probe")
    key, _ = make_api_key(admin, org=org, scopes=["read.me"], name="portal probe")
    application, secret = make_client(developer, org, name="portal probe")
    grant(developer, application, secret)
    session = login_pair(admin, org)
    departed_member_and_delivery(org, admin)
    accounts.invite_member(
        organization=org,
        email=f"invited@{org.slug}.test",
        role=Role.AGENT,
        by=admin,
        by_role=Role.ADMIN,
    )
    return {
        "token_id": token.pk,
        "key_id": key.pk,
        "client_pk": application.pk,
        "token_pk": AccessToken.objects.oauth_grants(organization_id=org.pk).get(user=developer).pk,
        "session_id": session.refresh_token.token_family,
        "membership_id": Membership.objects.get(organization=org, user=developer).pk,
        "item_id": ReviewItem.objects.get(organization=org).pk,
        "webhook_id": org.webhooks.order_by("pk").first().pk,
        "delivery_id": WebhookDelivery.objects.get(webhook__organization=org).pk,
        "invitation_id": Invitation.objects.get(organization=org).pk,
    }


@pytest.fixture
def world(acme, globex, alice, dev, mallory, other_org):
    """Acme's objects (the victim's) and Globex's own, of every kind; Globex's admin logged in."""
    globex_dev = make_member(other_org, "dev@globex.test", Role.BOT, developer_access=True)
    return {
        "acme": objects_of(acme.org, alice, dev),
        "globex": objects_of(other_org, mallory, globex_dev),
        "globex_org": other_org.public_id,
    }


def probes():
    """(route, the parameter that names Acme's object) for every id of every object route."""
    for route in object_routes():
        for _converter, name in PARAMETER.findall(route):
            if name != "org_id":
                yield route, name


def fill(route, org_id, values):
    def value(match):
        return str(org_id if match.group(2) == "org_id" else values[match.group(2)])

    return "/" + PARAMETER.sub(value, route)


def converter_of(route, parameter):
    return {name: conv for conv, name in PARAMETER.findall(route)}[parameter] or "str"


def test_the_sweep_finds_every_kind_of_object_route():
    names = {name for _route, name in probes()}
    assert names >= {"token_id", "key_id", "client_pk", "token_pk", "session_id"}
    assert names >= {"membership_id", "item_id", "webhook_id", "delivery_id", "invitation_id"}


def test_every_object_parameter_has_an_acme_object(world):
    for _route, name in probes():
        assert world["acme"].get(name), f"no Acme object for {name!r}: add one to objects_of()"


@pytest.mark.parametrize(("route", "parameter"), list(probes()), ids=lambda v: v)
def test_another_orgs_object_under_my_own_org_url_answers_like_a_missing_one(
    client, world, mallory, acme, route, parameter
):
    client.force_login(mallory)
    theirs = fill(
        route, world["globex_org"], {**world["globex"], parameter: world["acme"][parameter]}
    )
    missing = fill(
        route,
        world["globex_org"],
        {**world["globex"], parameter: MISSING[converter_of(route, parameter)]},
    )
    before = snapshot(acme.org)
    answers = {}
    for method in ("GET", "POST"):
        send = client.get if method == "GET" else client.post
        data = None if method == "GET" else FORM
        answers[method] = (send(theirs, data).status_code, send(missing, data).status_code)
    assert snapshot(acme.org) == before
    assert all(mine == gone for mine, gone in answers.values()), answers
    assert {mine for mine, _gone in answers.values()} <= {404, 405}, answers
    assert 404 in {mine for mine, _gone in answers.values()}, answers
