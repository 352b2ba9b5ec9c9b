"""Developer › API keys: the list, a detail per key, create and rotate (secret shown once), rename, delete.

The personal-token pages' standard: a view reads top to bottom (who may, fetch through
`ApiKey.objects.visible_to`, call the service, render); with htmx it renders just its
fragment (templates/tokens/api_keys/partials/), without it the whole page. Creating and
rotating are Post/Redirect/Get (tokens.handoff): the POST holds the new secret sealed for
the one GET of the key's result page (`api_key_secret`, `no-store`), which shows it once.
"""

import datetime

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.decorators import developer_required
from accounts.errors import Refused
from accounts.http import (
    client_ip,
    no_store,
    render_page_or_fragment,
    return_url,
    wants_fragment,
)

from .. import handoff, scopes
from ..cache import propagation
from ..forms import grace_consequence
from ..models import ApiKey
from ..schema import operations_allowed
from ..usage.views import attach_sparklines, usage_context
from . import services
from .forms import ApiKeyCreateForm, ApiKeyRenameForm, ApiKeyRotateForm

KEYS_PER_PAGE = 25
# Fired on <body> after a write; the key list listens for it and reloads itself.
API_KEYS_CHANGED = "api-keys-changed"
PAGE = "tokens/api_keys/api_keys.html"
LIST = "tokens/api_keys/partials/api_key_list.html"
CREATE = "tokens/api_keys/partials/api_key_create.html"
DETAIL_PAGE = "tokens/api_keys/api_key_detail.html"
DETAIL = "tokens/api_keys/partials/api_key_detail.html"
ROTATE_CONFIRM_PAGE = "tokens/api_keys/api_key_rotate.html"
ROTATE_CONFIRM = "tokens/api_keys/partials/api_key_rotate_confirm.html"


def get_visible_key(request, key_id):
    return get_object_or_404(ApiKey.objects.visible_to(request.membership).for_list(), pk=key_id)


def key_list_context(request, **extra):
    page = Paginator(ApiKey.objects.visible_to(request.membership).for_list(), KEYS_PER_PAGE)
    return {"page": attach_sparklines(page.get_page(request.GET.get("page")), "api_key"), **extra}


def key_create_form(request, data=None):
    service_accounts = ()
    if request.membership.is_admin:
        service_accounts = (
            request.organization.memberships.filter(user__is_service_account=True)
            .select_related("user", "organization")
            .order_by("user__email")
        )
    return ApiKeyCreateForm(data, membership=request.membership, service_accounts=service_accounts)


def can_do(key):
    """What the key may call today: its scopes cut to what its account's membership allows."""
    member = key.membership
    if member is None:
        return []
    return operations_allowed(scopes.effective(key.scope, member.role, member.developer_access))


def detail_context(key, **extra):
    return {
        "key": key,
        "can_do": can_do(key),
        "rename_form": ApiKeyRenameForm(),
        "rotate_form": ApiKeyRotateForm(),
        **extra,
    }


def slot(key):
    return f"api_key:{key.pk}"


def key_url(request, name, key):
    return reverse(name, kwargs={"org_id": request.organization.public_id, "key_id": key.pk})


@developer_required
@require_GET
def api_keys_page(request):
    """The list, and "Create API key" folded away (htmx: the list alone)."""
    context = key_list_context(request)
    if not wants_fragment(request):
        context["form"] = key_create_form(request)
    return render_page_or_fragment(request, PAGE, LIST, context)


@sensitive_variables()
@developer_required
@require_http_methods(["GET", "POST"])
def api_key_create(request):
    """GET: the page with the form open (htmx: the form alone). POST: create, then 303 to the result page."""
    if request.method == "GET":
        context = {"form": key_create_form(request), "form_open": True}
        if not wants_fragment(request):
            context.update(key_list_context(request))
        return render_page_or_fragment(request, PAGE, CREATE, context)
    submission = handoff.Submission(request)
    if submission.repeated:
        return submission.redirect_to_first(
            reverse("api_keys", kwargs={"org_id": request.organization.public_id})
        )
    form = key_create_form(request, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            issued = services.create_api_key(
                issuer=request.membership,
                name=data["name"],
                scopes=data["scope_names"],
                reach=data["reach"],
                owner=data.get("owner"),
                allow_jwt=data["allow_jwt"],
                ip=client_ip(request),
            )
        except Refused as exc:
            form.add_service_error(exc)
        else:
            handoff.hold(request, issued, slot=slot(issued.credential), how="created")
            return submission.done(key_url(request, "api_key_secret", issued.credential))
    submission.release()
    context = {"form": form, "form_open": True}
    if not wants_fragment(request):
        context.update(key_list_context(request))
    return render_page_or_fragment(request, PAGE, CREATE, context, status=400)


@sensitive_variables()
@developer_required
@require_GET
def api_key_secret(request, key_id):
    """The result page of a creation or rotation: the new secret once, then "already shown"."""
    key = get_visible_key(request, key_id)
    shown = handoff.take(request, key, slot=slot(key), ip=client_ip(request))
    secret, note = shown if shown else (None, {})
    extra = {
        "secret": secret,
        "new_key": key,
        "already_shown": not secret,
        "rotated": note.get("how") == "rotated",
        "api_me_url": request.build_absolute_uri(reverse("api_me")),
    }
    if note.get("old_until"):
        extra["old_until"] = datetime.datetime.fromisoformat(note["old_until"])
    if wants_fragment(request) and note.get("how") == "created":
        response = render(request, CREATE, {"form": key_create_form(request), **extra})
    else:
        response = render_page_or_fragment(
            request, DETAIL_PAGE, DETAIL, detail_context(key, **extra)
        )
        if wants_fragment(request):
            response["HX-Replace-Url"] = key_url(request, "api_key_detail", key)
    if secret and wants_fragment(request):
        response["HX-Trigger"] = API_KEYS_CHANGED
    return no_store(response)


@developer_required
@require_GET
def api_key_detail(request, key_id):
    key = get_visible_key(request, key_id)
    usage = usage_context(
        request, "api_key", key, key.scope, overlap_until=key.previous_secret_expires_at
    )
    return render_page_or_fragment(request, DETAIL_PAGE, DETAIL, detail_context(key, **usage))


@developer_required
@require_http_methods(["GET", "POST"])
def api_key_end_overlap(request, key_id):
    """GET asks to confirm; the POST from that confirmation stops the previous secret now."""
    key = get_visible_key(request, key_id)
    detail_url = key_url(request, "api_key_detail", key)
    if request.method == "GET":
        return render(
            request,
            "tokens/end_overlap.html",
            {
                "credential": key,
                "noun": "API key",
                "until": key.previous_secret_expires_at,
                "back_url": detail_url,
                "action_url": request.path,
            },
        )
    try:
        services.end_overlap(key=key, by=request.user, ip=client_ip(request))
    except Refused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "The previous secret no longer works.")
    return redirect(detail_url)


@developer_required
@require_POST
def api_key_rename(request, key_id):
    key = get_visible_key(request, key_id)
    form = ApiKeyRenameForm(request.POST)
    if form.is_valid():
        try:
            services.rename_api_key(
                key=key, name=form.cleaned_data["name"], by=request.user, ip=client_ip(request)
            )
        except Refused as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, "API key renamed.")
            if not wants_fragment(request):
                return redirect(key_url(request, "api_key_detail", key))
            response = render(request, DETAIL, detail_context(key))
            response["HX-Trigger"] = API_KEYS_CHANGED
            return response
    key.refresh_from_db(fields=["name"])
    return render_page_or_fragment(
        request, DETAIL_PAGE, DETAIL, detail_context(key, rename_form=form), status=400
    )


@developer_required
@require_GET
def api_key_rotate_confirm(request, key_id):
    """Rotate, step 1: say what the grace period picked means before anything changes."""
    key = get_visible_key(request, key_id)
    form = ApiKeyRotateForm(request.GET)
    if not form.is_valid():
        return render_page_or_fragment(
            request, DETAIL_PAGE, DETAIL, detail_context(key, rotate_form=form), status=400
        )
    grace = form.cleaned_data["grace"]
    context = {"key": key, "grace": grace, "consequence": grace_consequence(grace)}
    return render_page_or_fragment(request, ROTATE_CONFIRM_PAGE, ROTATE_CONFIRM, context)


@sensitive_variables()
@developer_required
@require_POST
def api_key_rotate(request, key_id):
    """Rotate, step 2: a new secret under the same key id, shown once; the old one works for the grace picked."""
    key = get_visible_key(request, key_id)
    submission = handoff.Submission(request)
    if submission.repeated:
        return submission.redirect_to_first(key_url(request, "api_key_detail", key))
    form = ApiKeyRotateForm(request.POST)
    if form.is_valid():
        try:
            issued = services.rotate_api_key(
                key=key, grace=form.cleaned_data["grace"], by=request.user, ip=client_ip(request)
            )
        except Refused as exc:
            form.add_service_error(exc)
        else:
            rotated = issued.credential
            still_works = rotated.previous_secret_expires_at > timezone.now()
            handoff.hold(
                request,
                issued,
                slot=slot(rotated),
                how="rotated",
                old_until=rotated.previous_secret_expires_at.isoformat() if still_works else None,
            )
            return submission.done(key_url(request, "api_key_secret", rotated))
    submission.release()
    return render_page_or_fragment(
        request, DETAIL_PAGE, DETAIL, detail_context(key, rotate_form=form), status=400
    )


@developer_required
@require_http_methods(["GET", "POST"])
def api_key_delete(request, key_id):
    """GET asks "This cannot be undone"; only the POST from that confirmation deletes."""
    key = get_visible_key(request, key_id)
    if request.method == "GET":
        return render_page_or_fragment(
            request,
            "tokens/api_keys/api_key_confirm_delete.html",
            "tokens/api_keys/partials/api_key_delete_confirm.html",
            {"key": key, "return_to": return_url(request)},
        )
    services.revoke_api_key(key=key, by=request.user, ip=client_ip(request))
    # In place, the "deleted" fragment is the status message itself.
    if not wants_fragment(request) or return_url(request):
        messages.success(request, f"API key “{key.name}” ({key.key_id}) deleted.")
        propagation.confirm(request, "Revoked")
        return redirect(
            return_url(request) or reverse("api_keys", args=[request.organization.public_id])
        )
    response = render(request, "tokens/api_keys/partials/api_key_deleted.html", {"key": key})
    response["HX-Trigger"] = API_KEYS_CHANGED
    response["HX-Replace-Url"] = reverse(
        "api_keys", kwargs={"org_id": request.organization.public_id}
    )
    return response
