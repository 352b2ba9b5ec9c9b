"""Credentials for the demo, through the real services: tokens in every state, the imported
legacy token, an API key, an OAuth client with a grant, a login session, and the audit trail
they leave. `seed_demo` (in chats, which may not import the kinds) calls this; safe to run again.
"""

import base64
import datetime
import hashlib
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test import Client
from django.test.utils import override_settings
from django.utils import timezone

from accounts import services as members
from accounts.models import Membership, Organization, Role, User
from tokens.api_keys import services as api_keys
from tokens.login import services as login
from tokens.models import AccessToken, ApiKey, Application, Kind
from tokens.oauth import services as oauth
from tokens.personal import services as personal
from tokens.usage import demo as usage_demo

DEMO_IP = "203.0.113.10"  # TEST-NET-3: clearly not a real address
REDIRECT_URI = "https://reports.example.com/oauth/callback"
LEAVER = "former@acme.test"  # a member who left, for the offboarding review

# (owner email, name, scopes, days until expiry or None)
TOKENS = [
    ("dev@acme.test", "CI deploy", ["read.chats", "read.chat_details", "create.messages"], None),
    ("dev@acme.test", "Staging smoke test", ["read.me", "read.chats"], 3),
    ("dev@acme.test", "Old laptop script", ["read.me"], 30),  # then expired: see _expire
    (
        "admin@acme.test",
        "Billing sync",
        ["read.me", "read.users", "read.organizations"],
        90,
    ),  # then rotated
]


class Command(BaseCommand):
    help = "Seed the demo's credentials in every state (needs `seed_demo`'s people; safe to run again)."

    @transaction.atomic
    def handle(self, *args, **options):
        acme = Organization.objects.filter(slug="acme").first()
        if acme is None:
            raise CommandError(
                "Run seed_demo first: it creates the Acme organization and its people."
            )
        people = {m.user.email: m for m in acme.memberships.select_related("user", "organization")}
        made = []
        for email, name, scopes, days in TOKENS:
            if self._has_token(acme, name):
                continue
            expires_at = timezone.now() + datetime.timedelta(days=days) if days else None
            issued = personal.issue_personal_token(
                issuer=people[email], name=name, scopes=scopes, expires_at=expires_at, ip=DEMO_IP
            )
            if name == "Old laptop script":
                self._expire(issued.credential)
            if name == "Billing sync":
                personal.rotate_token(
                    token=issued.credential, grace="7d", by=people[email].user, ip=DEMO_IP
                )
            made.append(f"token “{name}”")
        if not self._has_token(acme, f"{acme.name} API Client"):
            # A legacy plaintext nobody keeps: only its digest is stored, as on a real import.
            personal.import_legacy_token(
                organization=acme, raw="legacy_" + secrets.token_urlsafe(24)
            )
            made.append("imported legacy token")
        if not ApiKey.objects.live().filter(organization=acme, name="Order service").exists():
            api_keys.create_api_key(
                issuer=people["admin@acme.test"],
                name="Order service",
                scopes=["read.chats", "read.chat_details"],
                ip=DEMO_IP,
            )
            made.append("API key “Order service”")
        client = Application.objects.filter(organization=acme, name="Reporting dashboard").first()
        if client is None:
            issued = oauth.create_client(
                membership=people["dev@acme.test"],
                name="Reporting dashboard",
                redirect_uris=[REDIRECT_URI],
                ip=DEMO_IP,
            )
            self._grant(issued.credential, issued.secret.reveal(), people["agent@acme.test"].user)
            made.append("OAuth client “Reporting dashboard” with a grant")
        if not AccessToken.objects.filter(
            kind=Kind.LOGIN, organization=acme, user_agent__startswith="demo"
        ).exists():
            login.issue_login_pair(
                membership=people["dev@acme.test"],
                ip=DEMO_IP,
                user_agent="demo-cli/1.0 (curl-compatible)",
            )
            made.append("a login session")
        if self._offboard(acme, people["admin@acme.test"].user):
            made.append(f"a departed member's token waiting in the offboarding review ({LEAVER})")
        if usage_demo.seed(acme):
            made.append("30 days of usage")
        self.stdout.write(
            "Demo credentials: " + (", ".join(made) if made else "already there") + "."
        )

    @staticmethod
    def _offboard(organization, admin):
        """Someone who left with a token still live: the offboarding review has an item to show
        without a newcomer having to remove anyone first. Once only (the person stays gone)."""
        if User.objects.filter(email=LEAVER).exists():
            return False
        leaver = User.objects.create_user(LEAVER, None, name="Lee Vance")
        membership = members.add_member(
            organization=organization, user=leaver, role=Role.BOT, developer_access=True
        )
        personal.issue_personal_token(
            issuer=membership, name="Nightly export", scopes=["read.chats"], ip=DEMO_IP
        )
        members.remove_member(membership=membership, by=admin, ip=DEMO_IP)  # audited by tokens
        return True

    @staticmethod
    def _has_token(organization, name):
        return AccessToken.objects.personal().filter(organization=organization, name=name).exists()

    @staticmethod
    def _expire(token):
        """Time passing is the one thing no service does: move the expiry into the past."""
        token.expires = timezone.now() - datetime.timedelta(days=2)
        token.save(update_fields=["expires", "updated"])

    def _grant(self, application, secret, user):
        """The authorization-code flow with PKCE, as a browser and the client would run it."""
        membership = Membership.objects.get(user=user, organization=application.organization)
        verifier = secrets.token_urlsafe(48)
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            .rstrip(b"=")
            .decode()
        )
        query = {
            "response_type": "code",
            "client_id": application.client_id,
            "redirect_uri": REDIRECT_URI,
            "scope": membership.role,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "state": "demo",
        }
        with override_settings(ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"]):
            browser = Client(REMOTE_ADDR=DEMO_IP)
            browser.force_login(user)
            answer = browser.post(
                "/o/authorize/?" + urlencode(query), {**query, "allow": "Authorize"}
            )
            location = answer.get("Location", "")
            code = parse_qs(urlsplit(location).query).get("code", [None])[0]
            if code is None:
                raise CommandError(f"The demo grant was refused ({answer.status_code}).")
            basic = base64.b64encode(f"{application.client_id}:{secret}".encode()).decode()
            token = Client(REMOTE_ADDR=DEMO_IP).post(
                "/o/token/",
                {
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": REDIRECT_URI,
                    "code_verifier": verifier,
                },
                HTTP_AUTHORIZATION=f"Basic {basic}",
            )
        if token.status_code != 200:
            raise CommandError(f"The demo grant's token exchange failed ({token.status_code}).")
