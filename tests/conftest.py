"""The cast every test can call on, and the rules that make CI run every test.

Acme (in Acme Group) has alice (admin), dev (bot with developer access),
agent, guest and bot (a service account); mallory is admin of Globex.
"""

import os
from types import SimpleNamespace

import pytest
from django.db import connection
from rest_framework.test import APIClient

from accounts.models import Membership, Organization, OrganizationGroup, Role, User
from chats import services as chat_services
from chats.models import (
    Contact,
    Conversation,
    ConversationAttribute,
    Form,
    KnowledgeItem,
    Message,
    Service,
)

PASSWORD = "correct-horse-battery"


def _required(name):
    return os.environ.get(name, "").lower() in {"1", "true", "yes"}


def on_postgres():
    return connection.vendor == "postgresql"


def pytest_runtest_setup(item):
    """A PostgreSQL-only test skips on SQLite, but fails where CI requires PostgreSQL."""
    if item.get_closest_marker("postgres") and not on_postgres():
        message = "needs PostgreSQL: set DATABASE_URL=postgres://…"
        if _required("REQUIRE_POSTGRES"):
            pytest.fail(message + " (REQUIRE_POSTGRES=1 forbids skipping)")
        pytest.skip(message)


def pytest_sessionstart(session):
    if _required("REQUIRE_POSTGRES") and not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        pytest.exit("REQUIRE_POSTGRES=1 but DATABASE_URL does not point at PostgreSQL", returncode=1)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """PBKDF2 costs ~0.3 s per user; tests that measure login timing opt back in."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", "tokens.hashers.ClientSecretHasher"]


def make_member(org, email, role, *, developer_access=False, service=False, password=PASSWORD):
    """A user with one membership; service accounts get no usable password."""
    user = User.objects.filter(email=email).first() or User.objects.create_user(
        email, None if service else password, is_service_account=service
    )
    Membership.objects.create(user=user, organization=org, role=role, developer_access=developer_access)
    return user


def membership(user, org=None):
    memberships = Membership.objects.select_related("organization").filter(user=user)
    if org is not None:
        memberships = memberships.filter(organization=org)
    return memberships.get()


@pytest.fixture
def group(db):
    """Acme Group, owned by alice once she exists."""
    return OrganizationGroup.objects.create(name="Acme Group", slug="acme-group")


@pytest.fixture
def org(group):
    """Acme, the organization most tests happen in."""
    return Organization.objects.create(name="Acme", slug="acme", group=group)


@pytest.fixture
def other_org(db):
    """Globex: another tenant, whose people must never see Acme's things."""
    return Organization.objects.create(name="Globex", slug="globex")


@pytest.fixture
def alice(org, group):
    """Acme's admin (and owner of Acme Group)."""
    user = make_member(org, "alice@acme.test", Role.ADMIN, developer_access=True)
    group.owners.add(user)
    return user


@pytest.fixture
def dev(org):
    """A bot-level member of Acme with developer access."""
    return make_member(org, "dev@acme.test", Role.BOT, developer_access=True)


@pytest.fixture
def agent(org):
    """An agent of Acme without developer access."""
    return make_member(org, "agent@acme.test", Role.AGENT)


@pytest.fixture
def guest(org):
    """A guest of Acme."""
    return make_member(org, "guest@acme.test", Role.GUEST)


@pytest.fixture
def bot(org):
    """Acme's service account: owns credentials, never logs in with a password."""
    return make_member(org, "bot@acme.test", Role.BOT, service=True)


@pytest.fixture
def mallory(other_org):
    """Globex's admin: an outsider to Acme."""
    return make_member(other_org, "mallory@globex.test", Role.ADMIN, developer_access=True)


@pytest.fixture
def api():
    return APIClient()


def login(client, user):
    client.force_login(user)
    return client


def issue(user, org=None, scopes=("read.me",), **kwargs):
    """A personal token through the real service; returns (token row, plaintext secret)."""
    from tokens import services

    issued = services.issue_personal_token(
        issuer=membership(user, org), name=kwargs.pop("name", "test token"), scopes=list(scopes), **kwargs
    )
    return issued.token, issued.secret.reveal()


def bearer(secret):
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


# Platform data: one of every resource in Acme, Acme Labs and Globex.


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
        webhook=chat_services.create_webhook(organization=org, url="https://example.com/hook",
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


def in_parallel(count, work):
    """Run `work(n)` in `count` threads released together, each on its own real database
    connection; returns what each returned, or the code of the TokenError it raised."""
    import threading

    from django.db import connection

    from tokens.services import TokenError

    start = threading.Barrier(count)
    outcomes = []

    def run(n):
        try:
            outcomes.append(work(n, start))
        except TokenError as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes
