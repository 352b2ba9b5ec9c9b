"""The limits editor of the portal: a panel on each credential's page and on the token policy
page (`{% limits_panel %}`), posted to its own views. Everyone who sees the credential reads
its limits; admins change them."""

import datetime as dt

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from accounts.decorators import admin_required
from accounts.errors import Refused
from accounts.http import client_ip, render_page_or_fragment, wants_fragment
from accounts.models import Role

from ..models import AccessToken, ApiKey, Application, CredentialKind, Kind
from . import services

PANEL = "tokens/limits/partials/limits_panel.html"
PAGE = "tokens/limits/limits_page.html"

# Kind -> (the organization's credentials of that kind, its page's URL name, the editor's).
CREDENTIALS = {
    CredentialKind.PERSONAL: (
        lambda org: AccessToken.objects.filter(organization=org, kind=Kind.PERSONAL),
        "token_detail",
        "token_limits",
    ),
    CredentialKind.API_KEY: (
        lambda org: ApiKey.objects.filter(organization=org),
        "api_key_detail",
        "api_key_limits",
    ),
    CredentialKind.OAUTH_CLIENT: (
        lambda org: Application.objects.filter(organization=org),
        "oauth_client_detail",
        "oauth_client_limits",
    ),
}


def _credential(organization, kind, pk):
    """The organization's credential of `kind`, else 404 (another organization's alike)."""
    credential = CREDENTIALS[kind][0](organization).filter(pk=pk).first()
    if credential is None:
        raise Http404("No such credential.")
    return credential


def _number(text, field, label):
    text = (text or "").strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise Refused("invalid_number", f"{label} must be a whole number.", field) from None


def body_from_form(post):
    """The API's body from the editor's fields (one rate limit per line: name, limit, window)."""
    rate_limits = []
    for n, line in enumerate(post.get("rate_limits", "").splitlines(), start=1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) not in (3, 4) or not all(p.isdigit() for p in parts[1:]):
            raise Refused(
                "invalid_rate_limits",
                f"Line {n}: write a name, a limit and a window in seconds (and a cost), "
                "such as “burst 100 60”.",
                "rate_limits",
            )
        limit = {"name": parts[0], "limit": int(parts[1]), "window_seconds": int(parts[2])}
        if len(parts) == 4:
            limit["cost"] = int(parts[3])
        rate_limits.append(limit)
    remaining = _number(post.get("credits"), "credits", "Credits")
    refill = None
    amount = _number(post.get("refill_amount"), "refill", "The refill amount")
    if amount is not None or post.get("refill_interval"):
        refill = {
            "amount": amount,
            "interval": post.get("refill_interval") or None,
            "day_of_month": _number(post.get("refill_day"), "refill", "The day of the month")
            if post.get("refill_interval") == "monthly"
            else None,
        }
    return {
        "rate_limits": rate_limits,
        "credits": None if remaining is None else {"remaining": remaining, "refill": refill},
        "allowlist": {
            "ranges": [
                line.strip() for line in post.get("allowlist", "").splitlines() if line.strip()
            ],
            "report_only": post.get("report_only") == "on",
        },
    }


def _form_values(row, now):
    """The editor's fields for the stored limits."""
    shown = services.public(row, now)
    credits = shown["credits"] or {}
    refill = credits.get("refill") or {}
    return {
        "rate_limits": "\n".join(
            f"{r['name']} {r['limit']} {r['window_seconds']}"
            + (f" {r['cost']}" if r.get("cost", 1) != 1 else "")
            for r in shown["rate_limits"]
        ),
        "credits": "" if not credits else credits["remaining"],
        "refill_amount": refill.get("amount") or "",
        "refill_interval": refill.get("interval") or "",
        "refill_day": refill.get("day_of_month") or "",
        "allowlist": "\n".join(shown["allowlist"]["ranges"]),
        "report_only": shown["allowlist"]["report_only"],
        "next_refill_at": credits.get("next_refill_at"),
    }


def panel_context(request, kind, credential, **extra):
    """What the panel shows for `credential` of `kind` (None, kind "": the organization's)."""
    organization = request.organization
    now = timezone.now()
    row = services.limits_of(
        organization_id=organization.pk,
        kind=kind,
        credential_id=credential.pk if credential is not None else None,
    )
    if credential is None:
        action = reverse("organization_limits_edit", kwargs={"org_id": organization.public_id})
        back = reverse("token_policy", kwargs={"org_id": organization.public_id})
    else:
        action = reverse(CREDENTIALS[kind][2], args=[organization.public_id, credential.pk])
        back = reverse(CREDENTIALS[kind][1], args=[organization.public_id, credential.pk])
    context = {
        "organization": organization,
        "limits_kind": kind,
        "limits_action": action,
        "back_url": back,
        "limits_title": getattr(credential, "name", "") or organization.name,
        "limits_row": row,
        "values": _form_values(row, now),
        "can_edit": request.membership.role == Role.ADMIN,
        "errors": {},
        "would_refuse": services.would_refuse(
            row,
            organization_id=organization.pk,
            kind=kind,
            credential_ids=[credential.pk] if credential is not None else [],
            since=now - dt.timedelta(days=7),
        ),
        "your_address": client_ip(request),
    }
    context.update(extra)
    return context


def _save(request, kind, credential):
    post = request.POST
    try:
        values = services.clean(body_from_form(post))
        if kind == "" and values["credits"] is not None:
            raise Refused(
                "credits_per_credential",
                "Credits are a credential's own balance; set them on each credential.",
                "credits",
            )
        services.set_limits(
            organization=request.organization,
            credential=credential,
            kind=kind,
            values=values,
            by=request.user,
            ip=client_ip(request),
            confirm_lockout=post.get("confirm_lockout") == "on",
        )
    except Refused as exc:
        context = panel_context(
            request,
            kind,
            credential,
            errors={exc.field or "form": exc.message},
            lockout=exc.code == "lockout",
        )
        context["values"] = {**context["values"], **_posted(post)}
        # 400 for the lock-out too: the form comes back with the question, swapped in place.
        return render_page_or_fragment(request, PAGE, PANEL, context, status=400)
    if wants_fragment(request):
        return render(request, PANEL, panel_context(request, kind, credential, saved=True))
    messages.success(request, "Limits saved.")
    if credential is None:
        return redirect("token_policy", org_id=request.organization.public_id)
    return redirect(CREDENTIALS[kind][1], request.organization.public_id, credential.pk)


def _posted(post):
    return {
        name: post.get(name, "")
        for name in (
            "rate_limits",
            "credits",
            "refill_amount",
            "refill_interval",
            "refill_day",
            "allowlist",
        )
    } | {"report_only": post.get("report_only") == "on"}


@require_http_methods(["GET", "POST"])
@admin_required
def limits_edit(request, kind, **ids):
    """A credential's limits: the editor alone (GET), or saved (POST)."""
    credential = _credential(request.organization, kind, *ids.values())
    if request.method == "POST":
        return _save(request, kind, credential)
    return render(request, PAGE, panel_context(request, kind, credential))


@require_http_methods(["GET", "POST"])
@admin_required
def organization_limits_edit(request):
    """The organization's default limits."""
    if request.method == "POST":
        return _save(request, "", None)
    return render(request, PAGE, panel_context(request, "", None))
