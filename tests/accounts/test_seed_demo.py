import io

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from accounts.models import Membership, Organization, OrganizationGroup, User
from chats.models import Contact, Conversation, Message, Webhook

pytestmark = pytest.mark.django_db


def _counts():
    return (
        User.objects.count(),
        Organization.objects.count(),
        OrganizationGroup.objects.count(),
        Membership.objects.count(),
        Contact.objects.count(),
        Conversation.objects.count(),
        Message.objects.count(),
        Webhook.objects.count(),
    )


def test_seeding_twice_changes_nothing(settings):
    call_command("seed_demo", stdout=io.StringIO())
    first = _counts()
    call_command("seed_demo", stdout=io.StringIO())
    assert _counts() == first


def test_demo_people_have_their_roles():
    call_command("seed_demo", stdout=io.StringIO())
    acme = Organization.objects.get(slug="acme")
    roles = {
        m.user.email: (m.role, m.has_developer_access)
        for m in acme.memberships.select_related("user")
    }
    assert roles["admin@acme.test"] == ("admin", True)
    assert roles["dev@acme.test"] == ("bot", True)
    assert roles["agent@acme.test"] == ("agent", False)
    assert roles["guest@acme.test"] == ("guest", False)
    assert roles["bot@acme.test"] == ("bot", False)
    assert acme.group.name == "Acme Group"
    assert Organization.objects.get(slug="acme-labs").group == acme.group
    assert Organization.objects.get(slug="globex").group is None


def test_demo_logins_work_with_the_demo_password(settings):
    call_command("seed_demo", stdout=io.StringIO())
    for email in [
        "admin@acme.test",
        "dev@acme.test",
        "agent@acme.test",
        "guest@acme.test",
        "admin@labs.acme.test",
        "admin@globex.test",
    ]:
        assert authenticate(username=email, password=settings.DEMO_PASSWORD) is not None, email


def test_service_account_has_no_password_login(settings):
    call_command("seed_demo", stdout=io.StringIO())
    assert User.objects.get(email="bot@acme.test").is_service_account
    assert authenticate(username="bot@acme.test", password=settings.DEMO_PASSWORD) is None


def test_every_organization_gets_platform_data_and_the_guest_a_contact():
    call_command("seed_demo", stdout=io.StringIO())
    for org in Organization.objects.all():
        assert org.conversations.exists() and org.contacts.exists() and org.webhooks.exists(), (
            org.slug
        )
        assert org.knowledge_items.exists() and org.forms.exists() and org.services.exists(), (
            org.slug
        )
    assert Contact.objects.get(user__email="guest@acme.test").organization.slug == "acme"
    assert User.objects.get(email="admin@acme.test").owned_groups.filter(slug="acme-group").exists()


def test_the_demo_has_credentials_in_every_state():
    from django.utils import timezone

    from tokens.models import AccessToken, ApiKey, Application, AuditEvent

    call_command("seed_demo", stdout=io.StringIO())
    acme = Organization.objects.get(slug="acme")
    tokens = AccessToken.objects.personal().filter(organization=acme)
    now = timezone.now()
    assert tokens.filter(expires__lt=now).exists()  # expired
    assert tokens.filter(expires__gt=now, expires__lt=now + timezone.timedelta(days=4)).exists()
    assert tokens.filter(revoked_at__gt=now).exists()  # mid-rotation
    assert tokens.filter(name="Acme API Client").exists()  # the imported legacy token
    assert ApiKey.objects.live().filter(organization=acme).exists()
    assert Application.objects.filter(organization=acme).exists()
    assert AccessToken.objects.oauth_grants(organization_id=acme.pk).exists()
    assert acme.audit_events.filter(action=AuditEvent.Action.ROTATED).exists()


def test_seeding_credentials_twice_adds_none():
    from tokens.models import AccessToken, ApiKey, Application, AuditEvent

    def counts():
        return (
            AccessToken.objects.count(),
            ApiKey.objects.count(),
            Application.objects.count(),
            AuditEvent.objects.count(),
        )

    call_command("seed_demo", stdout=io.StringIO())
    first = counts()
    call_command("seed_demo", stdout=io.StringIO())
    assert counts() == first


def test_the_demo_has_an_item_waiting_in_the_offboarding_review():
    from tokens.models import ReviewItem

    call_command("seed_demo", stdout=io.StringIO())
    acme = Organization.objects.get(slug="acme")
    item = ReviewItem.objects.open().get(organization=acme)
    assert (item.member_email, item.credential_name) == ("former@acme.test", "Nightly export")
    assert acme.audit_events.filter(
        action="member_removed", detail__contains="former@acme.test"
    ).exists()
