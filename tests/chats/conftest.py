"""Platform data for the cast: one of every resource in Acme, Acme Labs and Globex."""

from types import SimpleNamespace

import pytest

from accounts.models import Organization
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


def make_platform(org, *, author, guest=None):
    """A contact (tied to `guest` when given), a second contact, a conversation each, and the rest."""
    own = Contact.objects.create(organization=org, external_id=f"{org.slug}-own", name="Own", user=guest)
    other = Contact.objects.create(organization=org, external_id=f"{org.slug}-other", name="Other")
    chat = Conversation.objects.create(organization=org, contact=own, subject="own chat")
    other_chat = Conversation.objects.create(organization=org, contact=other, subject="other chat")
    ConversationAttribute.objects.create(conversation=chat, key="channel", value="web")
    return SimpleNamespace(
        org=org,
        contact=own,
        other_contact=other,
        chat=chat,
        other_chat=other_chat,
        message=Message.objects.create(conversation=chat, author_contact=own, text="hello"),
        other_message=Message.objects.create(conversation=other_chat, author_contact=other, text="hi"),
        knowledge_item=KnowledgeItem.objects.create(organization=org, title="Hours"),
        form=Form.objects.create(organization=org, name="Contact"),
        service=Service.objects.create(organization=org, name="Support"),
        webhook=services.create_webhook(organization=org, url="https://example.com/hook",
                                        event_categories=["message"], by=author).webhook,
    )


@pytest.fixture
def acme(org, alice, guest, bot):
    """Acme's platform data; its first contact is the one guest@acme.test chats as."""
    return make_platform(org, author=alice, guest=guest)


@pytest.fixture
def labs(org, alice):
    """Acme Labs, in Acme Group (alice owns the group but is not a member of Labs)."""
    labs_org = Organization.objects.create(name="Acme Labs", slug="acme-labs", group=org.group)
    return make_platform(labs_org, author=alice)


@pytest.fixture
def globex(other_org, mallory):
    return make_platform(other_org, author=mallory)
