"""Admin › Offboarding review: what a departed or narrowed member left behind, and the decisions.

Full page loads (no fragments): each decision posts and redirects back, except a re-issue,
whose new secret is rendered straight from the service in a `no-store` response (as the
API key pages do), the one time it is shown.
"""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_GET, require_POST

from accounts.decorators import admin_required
from accounts.errors import Refused
from accounts.http import client_ip, no_store

from .. import audit
from ..models import ReviewItem
from . import services

PAGE = "tokens/review/review.html"
RECENT_DECISIONS = 20


def page_context(request, **extra):
    organization = request.organization
    items = list(
        ReviewItem.objects.open().filter(organization=organization).order_by("member_email", "id")
    )
    for item in items:
        item.reissuable = services.can_reissue(item)
    decided = (
        ReviewItem.objects.filter(organization=organization, decided_at__isnull=False)
        .select_related("decided_by")
        .order_by("-decided_at", "-id")[:RECENT_DECISIONS]
    )
    return {
        "items": items,
        "summary": services.summary(organization),
        "decided": decided,
        "service_accounts": services.service_accounts(organization),
        **extra,
    }


def get_open_item(request, item_id):
    return get_object_or_404(
        ReviewItem.objects.open().filter(organization=request.organization), pk=item_id
    )


@never_cache
@admin_required
@require_GET
def review_page(request):
    return render(request, PAGE, page_context(request))


def _back(request):
    return redirect(reverse("credential_review", kwargs={"org_id": request.organization.public_id}))


@admin_required
@require_POST
def review_revoke(request, item_id):
    item = services.revoke(
        item=get_open_item(request, item_id), by=request.user, ip=client_ip(request)
    )
    messages.success(
        request, f"Revoked {item.credential_name or item.credential_kind} of {item.member_email}."
    )
    return _back(request)


@admin_required
@require_POST
def review_keep(request, item_id):
    item = services.keep(item=get_open_item(request, item_id), by=request.user)
    messages.success(
        request, f"Kept {item.credential_name or item.credential_kind} of {item.member_email}."
    )
    return _back(request)


@sensitive_variables()
@admin_required
@require_POST
def review_reissue(request, item_id):
    item = get_open_item(request, item_id)
    owner_id = request.POST.get("owner", "")
    owner = None
    if (
        owner_id.isascii() and owner_id.isdigit() and len(owner_id) <= 18
    ):  # beyond a 64-bit id: nobody
        owner = (
            services.service_accounts(request.organization).filter(user_id=int(owner_id)).first()
        )
    try:
        if owner is None:
            raise Refused(
                "owner_not_service_account", "Pick a service account of this organization.", "owner"
            )
        issued = services.reissue(
            item=item, issuer=request.membership, owner=owner, ip=client_ip(request)
        )
    except Refused as exc:
        return render(request, PAGE, page_context(request, error=exc.message), status=400)
    context = page_context(
        request,
        reissued=issued.credential,
        owner=owner,
        secret=audit.reveal(issued, by=request.user, ip=client_ip(request)),
    )
    return no_store(render(request, PAGE, context, status=201))
