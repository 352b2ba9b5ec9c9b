"""After issuing tokens, no page, endpoint, admin screen or database row holds a secret.

A crawl follows every link a logged-in admin can reach (portal, admin, docs),
plus every API endpoint; then every row of every table is read.
"""

import io
import re
import sys
from collections import deque

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from chats import services as chat_services
from tests.factories import bearer, issue, membership
from tokens.api_keys import services as api_keys
from tokens.models import AccessToken, ApiKey
from tokens.personal import services

pytestmark = pytest.mark.django_db

LEGACY = "legacy-0123456789abcdef0123456789"
HREF = re.compile(r'(?:href|hx-get)="(/[^"#]*)"')


@pytest.fixture
def secrets_issued(alice, dev, bot, org, monkeypatch):
    """Tokens of every path: issued, admin-issued for a service account, rotated (both secrets), legacy."""
    alice.is_staff = alice.is_superuser = True
    alice.save()
    found = []
    for user, scopes in ((alice, ["admin"]), (dev, ["read.me", "read.tokens"])):
        _token, secret = issue(user, scopes=scopes)
        found.append(secret)
    issued = services.issue_personal_token(
        issuer=membership(alice), owner=membership(bot), name="bot", scopes=["read.me"]
    )
    found.append(issued.secret.reveal())
    token, old = issue(dev, name="rotating")
    found += [old, services.rotate_token(token=token, grace="24h", by=dev).secret.reveal()]
    monkeypatch.setattr(sys, "stdin", io.StringIO(LEGACY + "\n"))
    call_command("import_legacy_token", "--org", org.slug, stdout=io.StringIO())
    found.append(LEGACY)
    key = api_keys.create_api_key(issuer=membership(alice), name="server", scopes=["read.me"])
    found.append(key.secret.reveal())
    found.append(api_keys.rotate_api_key(key=key.credential, grace="24h", by=alice).secret.reveal())
    found.append(
        chat_services.create_webhook(
            organization=org, url="https://example.com/h", event_categories=["message"], by=alice
        ).secret.reveal()
    )
    return found


def _forbidden(secrets):
    digests = list(AccessToken.objects.values_list("token_checksum", flat=True))
    digests += [
        d
        for pair in ApiKey.objects.values_list("secret_digest", "previous_secret_digest")
        for d in pair
        if d
    ]
    return secrets + digests


def _crawl(client, start):
    seen, queue, pages = set(), deque(start), {}
    while queue and len(seen) < 500:
        url = queue.popleft()
        if url in seen or "logout" in url:
            continue
        seen.add(url)
        response = client.get(url)
        raw = b"".join(response.streaming_content) if response.streaming else response.content
        body = raw.decode(errors="replace")  # downloads (the audit CSV) are read too
        pages[url] = (response.status_code, body)
        if "html" in response.get("Content-Type", ""):
            for link in HREF.findall(body):
                link = link.replace("&amp;", "&")
                if link.startswith("/static/") or link in seen:
                    continue
                queue.append(link)
    return pages


def test_no_page_endpoint_or_admin_screen_shows_a_secret_or_digest(
    client, api, org, alice, secrets_issued
):
    forbidden = _forbidden(secrets_issued)
    client.force_login(alice)  # an admin of Acme and a Django superuser: sees the most
    start = [
        "/",
        f"/orgs/{org.public_id}/",
        "/api/docs/",
        "/api/docs/scopes/",
        "/api/schema/",
        "/admin/",
    ]
    for model in admin.site._registry:
        meta = model._meta
        start.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
        for pk in model._default_manager.values_list("pk", flat=True)[:20]:
            start.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[pk]))
    pages = _crawl(client, start)
    for pk in AccessToken.objects.values_list("pk", flat=True):
        pages[f"/api/v1/tokens/{pk}"] = (
            0,
            api.get(f"/api/v1/tokens/{pk}", **bearer(secrets_issued[0])).content.decode(),
        )
    for url in ["/api/v1/me", "/api/v1/tokens?scope=org", "/api/v1/tokens"]:
        pages[url] = (0, api.get(url, **bearer(secrets_issued[0])).content.decode())

    assert len(pages) > 30
    assert [url for url, (status, _) in pages.items() if status >= 500] == []
    leaks = [(url, s[:12]) for url, (_, body) in pages.items() for s in forbidden if s in body]
    assert leaks == []


def test_no_row_of_any_table_holds_a_plaintext_secret(secrets_issued):
    leaks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            for row in cursor.fetchall():
                text = " ".join(str(value) for value in row)
                leaks += [(table, s[:12]) for s in secrets_issued if s in text]
    assert leaks == []
