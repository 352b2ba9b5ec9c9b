"""Create (or bring back) the demo: Acme Group with Acme and Acme Labs, and Globex, with their
people, platform data and (through tokens' `seed_demo_credentials`) credentials."""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import Membership, Organization, OrganizationGroup, Role, User
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

# (email, organization slug, role, developer access, service account)
DEMO_MEMBERS = [
    ("admin@acme.test", "acme", Role.ADMIN, True, False),
    ("admin@acme.test", "acme-labs", Role.ADMIN, True, False),
    ("dev@acme.test", "acme", Role.BOT, True, False),
    ("agent@acme.test", "acme", Role.AGENT, False, False),
    ("guest@acme.test", "acme", Role.GUEST, False, False),
    ("bot@acme.test", "acme", Role.BOT, False, True),
    ("admin@labs.acme.test", "acme-labs", Role.ADMIN, True, False),
    ("admin@globex.test", "globex", Role.ADMIN, True, False),
]


class Command(BaseCommand):
    help = "Seed the demo organizations and people (safe to run again)."

    @transaction.atomic
    def handle(self, *args, **options):
        password = settings.DEMO_PASSWORD
        group, _ = OrganizationGroup.objects.get_or_create(
            slug="acme-group", defaults={"name": "Acme Group"}
        )
        orgs = {
            "acme": ("Acme", group),
            "acme-labs": ("Acme Labs", group),
            "globex": ("Globex", None),
        }
        organizations = {}
        for slug, (name, org_group) in orgs.items():
            org, _ = Organization.objects.get_or_create(
                slug=slug, defaults={"name": name, "group": org_group}
            )
            if org.group != org_group or org.name != name:
                org.group, org.name = org_group, name
                org.save(update_fields=["group", "name"])
            organizations[slug] = org

        users = {}
        for email, slug, role, developer_access, service in DEMO_MEMBERS:
            user = users.get(email) or User.objects.filter(email=email).first()
            if user is None:
                user = User.objects.create_user(
                    email,
                    None if service else password,
                    name=email.split("@")[0].title(),
                    is_service_account=service,
                )
            users[email] = user
            Membership.objects.update_or_create(
                user=user,
                organization=organizations[slug],
                defaults={"role": role, "developer_access": developer_access},
            )
        group.owners.add(users["admin@acme.test"])
        for slug, org in organizations.items():
            self._seed_platform(
                org,
                guest=users["guest@acme.test"] if slug == "acme" else None,
                by=users["admin@acme.test" if slug != "globex" else "admin@globex.test"],
            )

        # The credentials live in tokens' own command: chats may not import the credential kinds.
        call_command("seed_demo_credentials", stdout=self.stdout)

        self.stdout.write(f"Demo logins (password: {password}):")
        for email, slug, role, _dev, service in DEMO_MEMBERS:
            if service:
                self.stdout.write(
                    f"  {email:24} {role:6} in {slug} (service account: no portal login)"
                )
            else:
                self.stdout.write(f"  {email:24} {role:6} in {slug}")

    def _seed_platform(self, org, *, guest, by):
        """A few of every resource, once per organization, so every endpoint has something to show."""
        if org.contacts.exists():
            return
        contacts = [
            Contact.objects.create(
                organization=org,
                external_id=f"{org.slug}-contact-{n}",
                name=name,
                email=f"{name.lower()}@example.com",
            )
            for n, name in enumerate(["Ada", "Grace", "Linus"], start=1)
        ]
        if guest is not None:
            contacts[0].user = guest  # the guest account chats as this contact
            contacts[0].save(update_fields=["user"])
        for n, contact in enumerate(contacts, start=1):
            chat = Conversation.objects.create(
                organization=org, contact=contact, subject=f"Question {n} from {contact.name}"
            )
            ConversationAttribute.objects.create(conversation=chat, key="channel", value="web")
            ConversationAttribute.objects.create(conversation=chat, key="priority", value=str(n))
            Message.objects.create(
                conversation=chat, author_contact=contact, text=f"Hello, this is {contact.name}."
            )
            Message.objects.create(conversation=chat, author_user=by, text="Hi! How can we help?")
        for title in ["Opening hours", "Refund policy"]:
            KnowledgeItem.objects.create(
                organization=org, title=title, body=f"{title} of {org.name}."
            )
        Form.objects.create(
            organization=org,
            name="Contact form",
            fields=[{"name": "email", "type": "email"}, {"name": "question", "type": "text"}],
        )
        Service.objects.create(organization=org, name="Support", description="Customer support")
        Service.objects.create(organization=org, name="Sales", description="Pre-sales questions")
        services.create_webhook(
            organization=org,
            url=f"https://hooks.example.com/{org.slug}",
            event_categories=["conversation", "message"],
            by=by,
        )
