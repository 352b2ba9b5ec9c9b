"""Portal pages of the developer section and admin area that belong to no one kind: the
developer home, the audit log and the organization's credential inventory (each kind's
pages live in its own `views`)."""

import datetime
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Q
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from accounts.decorators import admin_required, developer_required
from accounts.http import RETURN_PARAMETER, render_page_or_fragment

from . import scopes as catalog
from .audit_log import AuditFilterForm, csv_lines, keyset_page
from .models import AccessToken, ApiKey, Application, CredentialKind, Kind, RefreshToken
from .usage import report as usage_report

EXPIRING_SOON = datetime.timedelta(days=7)


@admin_required
@require_GET
def audit_log(request):
    """Every credential event of the organization, newest first, narrowed by the URL's filters."""
    organization = request.organization
    form = AuditFilterForm(request.GET, organization=organization)
    events = form.filter(organization.audit_events.select_related("actor"))
    rows, older, newer = keyset_page(
        events, after=request.GET.get("after"), before=request.GET.get("before")
    )
    query = form.query()
    context = {
        "form": form,
        "events": rows,
        "filtered": bool(query),
        "older_url": older and "?" + urlencode({**query, "after": rows[-1].pk}),
        "newer_url": newer and "?" + urlencode({**query, "before": rows[0].pk}),
        "export_url": reverse("audit_log_export", args=[organization.public_id])
        + ("?" + urlencode(query) if query else ""),
    }
    return render_page_or_fragment(
        request, "tokens/audit_log.html", "tokens/partials/audit_list.html", context
    )


@admin_required
@require_GET
def audit_log_export(request):
    """The filtered audit log as CSV, every row (not just one page)."""
    organization = request.organization
    form = AuditFilterForm(request.GET, organization=organization)
    events = form.filter(organization.audit_events.all())
    response = StreamingHttpResponse(csv_lines(events), content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = (
        f'attachment; filename="keyward-audit-{organization.slug}-{stamp}.csv"'
    )
    return response


@developer_required
def developer_home(request):
    return render(request, "tokens/developer_home.html")


# --- the organization's credential inventory ------------------------------------------------
#
# This root view reads every kind's rows through the models (root modules) but never
# imports a kind: each row's revoke button links to its kind's own confirmation page,
# by URL name, so the revocation runs through that kind's view and service, confirmation
# and audit included, exactly as when its owner revokes it.


@dataclass
class Row:
    kind: str
    kind_label: str
    name: str
    owner: object  # a User, or None when the member is gone
    scopes: list
    created: datetime.datetime
    last_used: datetime.datetime | None
    expires: datetime.datetime | None
    state: str  # active, expiring, expired, rotating
    revoke_url: str = ""
    revoke_label: str = "Revoke"
    note: str = ""
    extra: dict = field(default_factory=dict)
    # What usage counts it under (kind, id), for its 24 h sparkline; None: not counted on its own.
    usage_key: tuple | None = None
    sparkline: list = field(default_factory=list)


STATES = [
    ("active", "Active"),
    ("expiring", "Expiring soon"),
    ("expired", "Expired"),
    ("rotating", "Rotating"),
]
KINDS = [
    (CredentialKind.PERSONAL.value, "Personal access tokens"),
    (CredentialKind.API_KEY.value, "API keys"),
    (CredentialKind.OAUTH_CLIENT.value, "OAuth clients"),
    (CredentialKind.OAUTH.value, "OAuth grants"),
    (CredentialKind.LOGIN.value, "Login sessions"),
]


def _state(expires, now, rotating=False):
    if expires is not None and expires <= now:
        return "expired"
    if rotating:
        return "rotating"
    if expires is not None and expires - now <= EXPIRING_SOON:
        return "expiring"
    return "active"


def _personal_rows(org, q, now, org_id):
    # A rotated token's old row is its successor's previous secret: one row, marked rotating.
    tokens = (
        AccessToken.objects.personal()
        .filter(organization=org, rotated_into__isnull=True)
        .unrevoked(now)
    )
    if q:
        tokens = tokens.filter(
            Q(name__icontains=q) | Q(user__email__icontains=q) | Q(user__name__icontains=q)
        )
    return [
        Row(
            CredentialKind.PERSONAL,
            "Token",
            t.name,
            t.user,
            t.scope_list,
            t.created,
            t.last_used_at,
            t.expires,
            _state(
                t.expires,
                now,
                rotating=t.revoked_at is not None or t.previous_secret_until is not None,
            ),
            revoke_url=reverse("token_delete", args=[org_id, t.pk]),
            usage_key=(CredentialKind.PERSONAL.value, t.pk),
            revoke_label="Delete",
            note=f"…{t.last4}",
        )
        for t in tokens.for_list(now)
    ]


def _api_key_rows(org, q, now, org_id):
    keys = ApiKey.objects.live(now).filter(organization=org)
    if q:
        keys = keys.filter(
            Q(name__icontains=q)
            | Q(key_id__icontains=q)
            | Q(membership__user__email__icontains=q)
            | Q(created_by__email__icontains=q)
        )
    return [
        Row(
            CredentialKind.API_KEY,
            "API key",
            k.name,
            k.membership.user if k.membership else None,
            k.scope_list,
            k.created_at,
            k.last_used_at,
            None,
            _state(
                None,
                now,
                rotating=bool(k.previous_secret_expires_at and k.previous_secret_expires_at > now),
            ),
            revoke_url=reverse("api_key_delete", args=[org_id, k.pk]),
            usage_key=(CredentialKind.API_KEY.value, k.pk),
            revoke_label="Delete",
            note=k.key_id,
            extra={"created_by": k.created_by},
        )
        for k in keys.select_related("membership__user", "created_by").order_by(
            "-created_at", "-id"
        )
    ]


def _client_rows(org, q, now, org_id):
    clients = Application.objects.filter(organization=org).exclude(
        client_id=Application.LOGIN_CLIENT_ID
    )
    if q:
        clients = clients.filter(
            Q(name__icontains=q) | Q(client_id__icontains=q) | Q(created_by__email__icontains=q)
        )
    return [
        Row(
            CredentialKind.OAUTH_CLIENT,
            "OAuth client",
            c.name,
            c.created_by,
            [],
            c.created,
            c.last_used_at,
            None,
            "active",
            revoke_url=reverse("oauth_client_delete", args=[org_id, c.pk]),
            usage_key=(CredentialKind.OAUTH_CLIENT.value, c.pk),
            revoke_label="Delete",
            note=c.get_client_type_display(),
        )
        for c in clients.select_related("created_by").order_by("-created", "-id")
    ]


def _grant_rows(org, q, now, org_id):
    grants = AccessToken.objects.oauth_grants(organization_id=org.pk, now=now)
    if q:
        grants = grants.filter(Q(application__name__icontains=q) | Q(user__email__icontains=q))
    rows = []
    for g in grants.select_related("user", "application"):
        row = Row(
            CredentialKind.OAUTH,
            "OAuth grant",
            g.application.name if g.application else "",
            g.user,
            g.scope_list,
            g.created,
            g.last_used_at,
            g.expires,
            _state(None, now),
            note="Only the person who authorized it revokes a grant; deleting the client ends them all.",
        )
        # A grant is revoked by the person who gave it; an admin deletes the client instead.
        if g.application and g.application.organization_id == org.pk:
            row.revoke_url = reverse("oauth_client_delete", args=[org_id, g.application.pk])
            row.revoke_label = "Delete client"
        rows.append(row)
    return rows


def _session_rows(org, q, now, org_id):
    lifetime = datetime.timedelta(seconds=settings.LOGIN_REFRESH_TOKEN_LIFETIME_SECONDS)
    sessions = RefreshToken.objects.filter(
        revoked__isnull=True,
        access_token__kind=Kind.LOGIN,
        access_token__organization=org,
        created__gt=now - lifetime,
    )
    if q:
        sessions = sessions.filter(
            Q(user__email__icontains=q) | Q(access_token__user_agent__icontains=q)
        )
    return [
        Row(
            CredentialKind.LOGIN,
            "Login session",
            rt.access_token.user_agent or "API login",
            rt.user,
            catalog.ordered(rt.access_token.scope.split()),
            rt.created,
            rt.access_token.last_used_at,
            rt.created + lifetime,
            "active",
            revoke_url=reverse("member_session_end", args=[org_id, rt.token_family]),
            revoke_label="End",
            note=rt.access_token.last_used_ip or rt.access_token.created_ip or "",
        )
        for rt in sessions.select_related("user", "access_token").order_by("-created", "-id")
    ]


SOURCES = {
    CredentialKind.PERSONAL.value: _personal_rows,
    CredentialKind.API_KEY.value: _api_key_rows,
    CredentialKind.OAUTH_CLIENT.value: _client_rows,
    CredentialKind.OAUTH.value: _grant_rows,
    CredentialKind.LOGIN.value: _session_rows,
}


def _attach_sparklines(rows, now):
    """Each counted row's last 24 hours: one query per kind and usage table."""
    ids = {}
    for row in rows:
        if row.usage_key is not None:
            ids.setdefault(row.usage_key[0], []).append(row.usage_key[1])
    lines = {kind: usage_report.sparklines(kind, pks, now=now) for kind, pks in ids.items()}
    for row in rows:
        if row.usage_key is not None:
            row.sparkline = lines[row.usage_key[0]].get(row.usage_key[1], [])


@admin_required
@require_GET
def credential_inventory(request):
    """Every credential of the organization, whoever holds it: one query per kind, whatever
    their number. Filters: `q` (name or owner), `kind`, `state`."""
    q = request.GET.get("q", "").strip()[:100]
    kind = request.GET.get("kind", "")
    state = request.GET.get("state", "")
    now = timezone.now()
    org_id = request.organization.public_id
    rows = []
    for name, source in SOURCES.items():
        if kind in SOURCES and kind != name:
            continue
        rows += source(request.organization, q, now, org_id)
    if state in dict(STATES):
        rows = [row for row in rows if row.state == state]
    _attach_sparklines(rows, now)
    # Each confirmation brings the admin back here, filters and all, not to their own lists.
    back = urlencode({RETURN_PARAMETER: request.get_full_path()})
    for row in rows:
        if row.revoke_url:
            row.revoke_url += "?" + back
    context = {
        "rows": rows,
        "q": q,
        "kind": kind,
        "state": state,
        "kinds": KINDS,
        "states": STATES,
        "now": now,
    }
    return render(request, "tokens/admin/inventory.html", context)
