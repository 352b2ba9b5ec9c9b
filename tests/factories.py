"""Plain functions that build test data through the real services (never around them)."""

import threading
from contextlib import contextmanager
from types import SimpleNamespace

from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection

from accounts.errors import Refused
from accounts.models import Membership, User
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
from tokens.api_keys import services as api_key_services
from tokens.login import services as login_services
from tokens.oauth import services as oauth_services
from tokens.personal import services

PASSWORD = "correct-horse-battery"
OAUTH_REDIRECT_URI = "https://app.example.com/callback"


def make_member(org, email, role, *, developer_access=False, service=False, password=PASSWORD):
    """A user with one membership; service accounts get no usable password."""
    user = User.objects.filter(email=email).first() or User.objects.create_user(
        email, None if service else password, is_service_account=service
    )
    Membership.objects.create(
        user=user, organization=org, role=role, developer_access=developer_access
    )
    return user


def membership(user, org=None):
    memberships = Membership.objects.select_related("organization").filter(user=user)
    if org is not None:
        memberships = memberships.filter(organization=org)
    return memberships.get()


def login(client, user):
    client.force_login(user)
    return client


def issue(user, org=None, scopes=("read.me",), **kwargs):
    """A personal token through the real service; returns (token row, plaintext secret)."""
    issued = services.issue_personal_token(
        issuer=membership(user, org),
        name=kwargs.pop("name", "test token"),
        scopes=list(scopes),
        **kwargs,
    )
    return issued.credential, issued.secret.reveal()


def make_client(
    user, org=None, *, name="Reporting app", redirect_uris=(OAUTH_REDIRECT_URI,), **kwargs
):
    """An OAuth client registered through the real service; returns (application, plaintext secret or None)."""
    issued = oauth_services.create_client(
        membership=membership(user, org), name=name, redirect_uris=list(redirect_uris), **kwargs
    )
    return issued.credential, issued.secret.reveal() if issued.secret else None


def make_api_key(user, scopes=("admin",), org=None, **kwargs):
    """An API key through the real service; returns (key row, plaintext secret)."""
    issued = api_key_services.create_api_key(
        issuer=membership(user, org),
        name=kwargs.pop("name", "server"),
        scopes=list(scopes),
        **kwargs,
    )
    return issued.credential, issued.secret.reveal()


def login_pair(user, org=None, **kwargs):
    """A login session through the real service; returns the LoginPair (both secrets unread)."""
    return login_services.issue_login_pair(membership=membership(user, org), **kwargs)


def make_delivery(webhook, event_type="credential.expiring"):
    """A delivery of an event to `webhook` as chats.events.emit records it (nothing is sent)."""
    from chats import deliveries
    from chats.models import WebhookDelivery, WebhookEvent

    event = WebhookEvent.objects.create(
        organization=webhook.organization, type=event_type, body="{}"
    )
    return WebhookDelivery.objects.create(
        event=event, webhook=webhook, retry_until=event.created_at + deliveries.retry_window()
    )


def make_review_item(credential, *, member):
    """An open offboarding review item for `credential`, as if `member` had just been removed."""
    from tokens.models import ReviewItem

    return ReviewItem.objects.create(
        organization_id=credential.organization_id,
        member=member,
        member_email=member.email,
        reason=ReviewItem.Reason.REMOVED,
        credential_kind=credential.credential_kind,
        credential_id=credential.pk,
        credential_name=credential.name,
        credential_last4=credential.last4,
    )


def bearer(secret):
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def make_platform(org, *, author, guest=None):
    """A contact (tied to `guest` when given), a second contact, a conversation each, and the rest."""
    own = Contact.objects.create(
        organization=org, external_id=f"{org.slug}-own", name="Own", user=guest
    )
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
        other_message=Message.objects.create(
            conversation=other_chat, author_contact=other, text="hi"
        ),
        knowledge_item=KnowledgeItem.objects.create(organization=org, title="Hours"),
        form=Form.objects.create(organization=org, name="Contact"),
        service=Service.objects.create(organization=org, name="Support"),
        webhook=chat_services.create_webhook(
            organization=org,
            url="https://example.com/hook",
            event_categories=["message"],
            by=author,
        ).credential,
    )


def in_parallel(count, work):
    """Run `work(n)` in `count` threads released together, each on its own real database
    connection; returns what each returned, or the code of the refusal it raised."""
    start = threading.Barrier(count)
    outcomes = []

    def run(n):
        try:
            outcomes.append(work(n, start))
        except Refused as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def other_connection():
    """A psycopg connection of its own to the test database (PostgreSQL), to kill or lock
    what Django's connection is using."""
    import psycopg

    params = connection.get_connection_params()
    return psycopg.connect(
        dbname=params["dbname"],
        user=params.get("user"),
        password=params.get("password"),
        host=params.get("host"),
        port=params.get("port"),
        autocommit=True,
    )


def terminate_backend(pid):
    """End a PostgreSQL backend, as a database restart or a network cut would."""
    with other_connection() as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])


@contextmanager
def connection_kept():
    """Calling a WSGI handler directly fires request_started/finished, whose receiver would close
    the test's connection (rolling back its transaction on PostgreSQL). Django's test client mutes
    that receiver around each request, and reconnects it after, so it is muted here per call too."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
