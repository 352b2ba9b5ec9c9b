"""Every list costs the same number of queries for 1 item and for 50 (no N+1)."""

import itertools

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Membership, Organization, Role, User
from chats import services
from chats.models import (
    Contact,
    Conversation,
    ConversationAttribute,
    Form,
    KnowledgeItem,
    Message,
    Service,
)
from tests.factories import bearer, issue
from tokens.models import AccessToken

pytestmark = pytest.mark.django_db


_serial = itertools.count()


def _add(kind, org, n, author):
    for _ in range(n):
        i = next(_serial)
        if kind == "conversations":
            contact = Contact.objects.create(organization=org, external_id=f"c-{kind}-{i}")
            chat = Conversation.objects.create(organization=org, contact=contact, subject=str(i))
            ConversationAttribute.objects.create(conversation=chat, key="k", value=str(i))
        elif kind == "messages":
            chat = Conversation.objects.get(subject="the chat")
            contact = Contact.objects.create(organization=org, external_id=f"m-{i}")
            Message.objects.create(conversation=chat, author_contact=contact, text=str(i))
        elif kind == "contacts":
            Contact.objects.create(organization=org, external_id=f"x-{i}")
        elif kind == "knowledge-items":
            KnowledgeItem.objects.create(organization=org, title=str(i))
        elif kind == "forms":
            Form.objects.create(organization=org, name=str(i))
        elif kind == "services":
            Service.objects.create(organization=org, name=str(i))
        elif kind == "webhooks":
            services.create_webhook(
                organization=org, url="https://e.com/h", event_categories=["message"], by=author
            )
        elif kind == "users":
            Membership.objects.create(
                organization=org, role=Role.AGENT, user=User.objects.create_user(f"u{i}@x.test")
            )
        elif kind == "organizations":
            Organization.objects.create(name=str(i), slug=f"o-{i}", group=org.group)
        elif kind == "tokens":
            issue(author, scopes=["read.me"])


def _queries(api, secret, path):
    AccessToken.objects.update(
        last_used_at=timezone.now()
    )  # keep last-used writes out of the count
    with CaptureQueriesContext(connection) as captured:
        response = api.get(path, **bearer(secret))
    assert response.status_code == 200, response.content[:200]
    return len(captured)


@pytest.mark.parametrize(
    "kind",
    [
        "conversations",
        "messages",
        "contacts",
        "knowledge-items",
        "forms",
        "services",
        "webhooks",
        "users",
        "organizations",
        "tokens",
    ],
)
def test_list_costs_the_same_for_1_and_50_items(api, alice, org, kind):
    _t, secret = issue(alice, scopes=["admin"], reach="account")
    chat = Conversation.objects.create(organization=org, subject="the chat")
    path = {
        "messages": f"/api/v1/conversations/{chat.pk}/messages",
        "tokens": "/api/v1/tokens?scope=org",
    }.get(kind, f"/api/v1/{kind}")
    _add(kind, org, 1, alice)
    one = _queries(api, secret, path)
    _add(kind, org, 49, alice)
    fifty = _queries(api, secret, path)
    assert one == fifty
