"""Portal pages: the developer's personal access tokens and the organization's token policy.

A view reads top to bottom: who may do this, fetch through the organization or
membership, call the service, render. With htmx a view renders just its
fragment (one template under templates/tokens/personal/partials/); without, the whole
page, so everything works without JavaScript. Creating and rotating are
Post/Redirect/Get (tokens.handoff): the POST holds the new secret sealed for the
one GET of the token's result page (`token_secret`, `no-store`), which shows it
once; a reload, back or double-submit creates and rotates nothing.
"""

import datetime

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.decorators import admin_required, developer_required
from accounts.errors import Refused
from accounts.http import client_ip, render_page_or_fragment, return_url, wants_fragment

from .. import handoff, scopes
from ..cache import propagation
from ..forms import grace_consequence
from ..models import AccessToken
from ..rules import GRACE_PERIODS
from ..schema import operations_allowed
from ..usage.views import attach_sparklines, usage_context
from . import services
from .forms import TokenCreateForm, TokenPolicyForm, TokenRenameForm, TokenRotateForm

TOKENS_PER_PAGE = 25
# Fired on <body> after a write; the token list listens for it and reloads itself.
TOKENS_CHANGED = "tokens-changed"
PAGE = "tokens/personal/tokens.html"
LIST = "tokens/personal/partials/token_list.html"
CREATE = "tokens/personal/partials/token_create.html"
DETAIL_PAGE = "tokens/personal/token_detail.html"
DETAIL = "tokens/personal/partials/token_detail.html"
ROTATE_CONFIRM_PAGE = "tokens/personal/token_rotate.html"
ROTATE_CONFIRM = "tokens/personal/partials/token_rotate_confirm.html"
POLICY_PAGE = "tokens/personal/token_policy.html"
POLICY = "tokens/personal/partials/token_policy_form.html"


def get_visible_token(request, token_id):
    return get_object_or_404(
        AccessToken.objects.visible_to(request.membership).for_list(), pk=token_id
    )


def token_list_context(request):
    paginator = Paginator(
        AccessToken.objects.visible_to(request.membership).for_list(), TOKENS_PER_PAGE
    )
    return {"page": attach_sparklines(paginator.get_page(request.GET.get("page")), "personal")}


def token_create_form(request, data=None):
    organization = request.organization
    service_accounts = ()
    if request.membership.is_admin:
        service_accounts = (
            organization.memberships.filter(user__is_service_account=True)
            .select_related("user", "organization")
            .order_by("user__email")
        )
    return TokenCreateForm(
        data,
        membership=request.membership,
        policy=services.policy_of(organization),
        service_accounts=service_accounts,
    )


def slot(token):
    return f"token:{token.pk}"


def list_url(request):
    return reverse("tokens", kwargs={"org_id": request.organization.public_id})


def result_url(request, token):
    return reverse(
        "token_secret", kwargs={"org_id": request.organization.public_id, "token_id": token.pk}
    )


def can_do(token):
    """What the token may call today: its scopes cut to its owner's current membership."""
    member = token.membership
    if member is None:
        return []
    return operations_allowed(scopes.effective(token.scope, member.role, member.developer_access))


def detail_context(token, **extra):
    return {
        "token": token,
        "can_do": can_do(token),
        "rename_form": TokenRenameForm(),
        "rotate_form": TokenRotateForm(),
        **extra,
    }


@developer_required
@require_GET
def token_list(request):
    """Developer › Access tokens: the list, and "Generate new token" folded away (htmx: the list alone)."""
    context = token_list_context(request)
    if not wants_fragment(request):
        context["form"] = token_create_form(request)
    return render_page_or_fragment(request, PAGE, LIST, context)


# sensitive_variables: an error report (DEBUG page, admin email) must not print the secret
# from this view's frames or the template rendering below it.
@sensitive_variables()
@developer_required
@require_http_methods(["GET", "POST"])
def token_create(request):
    """GET: the page with the form open (htmx: the form alone). POST: generate, then 303 to the result page."""
    if request.method == "GET":
        context = {"form": token_create_form(request), "form_open": True}
        if not wants_fragment(request):
            context.update(token_list_context(request))
        return render_page_or_fragment(request, PAGE, CREATE, context)
    submission = handoff.Submission(request)
    if submission.repeated:
        return submission.redirect_to_first(list_url(request))
    form = token_create_form(request, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            issued = services.issue_personal_token(
                issuer=request.membership,
                name=data["name"],
                scopes=data["scope_names"],
                expires_at=data["expires_at"],
                owner=data.get("owner"),
                ip=client_ip(request),
            )
        except Refused as exc:
            form.add_service_error(exc)
        else:
            handoff.hold(request, issued, slot=slot(issued.credential), how="created")
            return submission.done(result_url(request, issued.credential))
    submission.release()
    context = {"form": form, "form_open": True}
    if not wants_fragment(request):
        context.update(token_list_context(request))
    return render_page_or_fragment(request, PAGE, CREATE, context, status=400)


@sensitive_variables()
@never_cache
@developer_required
@require_GET
def token_secret(request, token_id):
    """The result page of a creation or rotation: the new secret once, then "already shown"."""
    token = get_visible_token(request, token_id)
    shown = handoff.take(request, token, slot=slot(token), ip=client_ip(request))
    secret, note = shown if shown else (None, {})
    extra = {
        "secret": secret,
        "new_token": token,
        "already_shown": not secret,
        "api_me_url": request.build_absolute_uri(reverse("api_me")),
    }
    if note.get("how") == "rotated":
        until = note.get("old_until")
        extra["rotated_from"] = {
            "last4": note.get("old_last4", ""),
            "until": datetime.datetime.fromisoformat(until) if until else None,
        }
    if wants_fragment(request) and note.get("how") == "created":
        response = render(request, CREATE, {"form": token_create_form(request), **extra})
    else:
        response = render_page_or_fragment(
            request, DETAIL_PAGE, DETAIL, detail_context(token, **extra)
        )
        if wants_fragment(request):
            response["HX-Replace-Url"] = reverse(
                "token_detail",
                kwargs={"org_id": request.organization.public_id, "token_id": token.pk},
            )
    if secret and wants_fragment(request):
        response["HX-Trigger"] = TOKENS_CHANGED
    return response


@developer_required
@require_GET
def token_detail(request, token_id):
    token = get_visible_token(request, token_id)
    previous = list(token.previous_secrets())
    usage = usage_context(
        request,
        "personal",
        token,
        token.scope,
        ids=[token.pk, *token.rotated_from.values_list("pk", flat=True)],
        overlap_until=max((old.revoked_at for old in previous), default=None),
    )
    return render_page_or_fragment(request, DETAIL_PAGE, DETAIL, detail_context(token, **usage))


@developer_required
@require_POST
def token_rename(request, token_id):
    token = get_visible_token(request, token_id)
    form = TokenRenameForm(request.POST)
    if form.is_valid():
        try:
            services.rename_token(
                token=token, name=form.cleaned_data["name"], by=request.user, ip=client_ip(request)
            )
        except Refused as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, "Token renamed.")
            if not wants_fragment(request):
                return redirect(
                    "token_detail", org_id=request.organization.public_id, token_id=token.pk
                )
            response = render(request, DETAIL, detail_context(token))
            response["HX-Trigger"] = TOKENS_CHANGED
            return response
    return render_page_or_fragment(
        request,
        DETAIL_PAGE,
        DETAIL,
        detail_context(token, rename_form=form),
        status=400,
    )


@developer_required
@require_GET
def token_rotate_confirm(request, token_id):
    """Rotate, step 1: say what the grace period picked means before anything changes."""
    token = get_visible_token(request, token_id)
    form = TokenRotateForm(request.GET)
    if not form.is_valid():
        return render_page_or_fragment(
            request,
            DETAIL_PAGE,
            DETAIL,
            detail_context(token, rotate_form=form),
            status=400,
        )
    grace = form.cleaned_data["grace_period"]
    context = {"token": token, "grace_period": grace, "consequence": grace_consequence(grace)}
    return render_page_or_fragment(request, ROTATE_CONFIRM_PAGE, ROTATE_CONFIRM, context)


@sensitive_variables()
@developer_required
@require_POST
def token_rotate(request, token_id):
    """Rotate, step 2: a new secret, shown once on its result page; the old one works for the grace picked."""
    submission = handoff.Submission(request)
    if submission.repeated:
        # Asked before the token: once rotated, the old one is its successor's previous secret
        # and no longer a page of its own, so a repeat must not look it up.
        return submission.redirect_to_first(list_url(request))
    token = get_visible_token(request, token_id)
    form = TokenRotateForm(request.POST)
    if form.is_valid():
        try:
            issued = services.rotate_token(
                token=token,
                grace=form.cleaned_data["grace_period"],
                by=request.user,
                ip=client_ip(request),
            )
        except Refused as exc:
            form.add_service_error(exc)
        else:
            token.refresh_from_db(fields=["revoked_at"])
            still_works = not token.is_revoked()
            handoff.hold(
                request,
                issued,
                slot=slot(issued.credential),
                how="rotated",
                old_last4=token.last4,
                old_until=token.revoked_at.isoformat() if still_works else None,
            )
            return submission.done(result_url(request, issued.credential))
    submission.release()
    return render_page_or_fragment(
        request,
        DETAIL_PAGE,
        DETAIL,
        detail_context(token, rotate_form=form),
        status=400,
    )


@developer_required
@require_http_methods(["GET", "POST"])
def token_delete(request, token_id):
    """GET asks "This cannot be undone"; only the POST from that confirmation revokes."""
    token = get_visible_token(request, token_id)
    if request.method == "GET":
        return render_page_or_fragment(
            request,
            "tokens/personal/token_delete.html",
            "tokens/personal/partials/token_delete_confirm.html",
            {"token": token, "return_to": return_url(request)},
        )
    services.revoke_token(token=token, by=request.user, ip=client_ip(request))
    list_url = reverse("tokens", kwargs={"org_id": request.organization.public_id})
    # In place, the "deleted" fragment is the status message itself.
    if not wants_fragment(request) or return_url(request):
        messages.success(request, f"Token “{token.name}” (…{token.last4}) deleted.")
        propagation.confirm(request, "Revoked")
        return redirect(return_url(request) or list_url)
    response = render(request, "tokens/personal/partials/token_deleted.html", {"token": token})
    response["HX-Trigger"] = TOKENS_CHANGED
    response["HX-Replace-Url"] = list_url
    return response


def _narrow_choice(data):
    """The days and grace period of a narrowing, from a query or a form (defaults when unknown)."""
    try:
        days = int(data.get("days", 30))
    except ValueError:
        days = 30
    if days not in services.NARROW_DAYS:
        days = 30
    grace = data.get("grace_period", "24h")
    return days, grace if grace in GRACE_PERIODS else "24h"


@sensitive_variables()
@developer_required
@require_http_methods(["GET", "POST"])
def token_narrow(request, token_id):
    """Narrow to the scopes used lately. GET: which scopes stay and which go, and one
    confirmation; its POST rotates into the narrower token, whose secret the result page shows once."""
    if request.method == "POST":
        submission = handoff.Submission(request)
        if submission.repeated:  # before the lookup: the narrowed token is no longer listed
            return submission.redirect_to_first(list_url(request))
    token = get_visible_token(request, token_id)
    detail_url = reverse(
        "token_detail", kwargs={"org_id": request.organization.public_id, "token_id": token.pk}
    )
    days, grace = _narrow_choice(request.POST if request.method == "POST" else request.GET)
    error = None
    if request.method == "POST":
        try:
            issued = services.narrow_token(
                token=token, days=days, grace=grace, by=request.user, ip=client_ip(request)
            )
        except Refused as exc:
            submission.release()
            error = exc.message
        else:
            token.refresh_from_db(fields=["revoked_at"])
            still_works = not token.is_revoked()
            handoff.hold(
                request,
                issued,
                slot=slot(issued.credential),
                how="rotated",
                old_last4=token.last4,
                old_until=token.revoked_at.isoformat() if still_works else None,
            )
            return submission.done(result_url(request, issued.credential))
    kept = services.narrowed_scopes(token, days=days)
    context = {
        "token": token,
        "days": days,
        "grace_period": grace,
        "consequence": grace_consequence(grace),
        "kept": kept,
        "dropped": [name for name in token.scope_list if name not in kept],
        "narrow_days": services.NARROW_DAYS,
        "grace_periods": list(GRACE_PERIODS),
        "detail_url": detail_url,
        "error": error,
    }
    return render(
        request, "tokens/personal/token_narrow.html", context, status=400 if error else 200
    )


@developer_required
@require_http_methods(["GET", "POST"])
def token_end_overlap(request, token_id):
    """GET asks to confirm; the POST from that confirmation stops the previous secret now."""
    token = get_visible_token(request, token_id)
    detail_url = reverse(
        "token_detail", kwargs={"org_id": request.organization.public_id, "token_id": token.pk}
    )
    if request.method == "GET":
        return render(
            request,
            "tokens/end_overlap.html",
            {
                "credential": token,
                "noun": "token",
                "until": token.previous_secret_until,
                "back_url": detail_url,
                "action_url": request.path,
            },
        )
    try:
        services.end_overlap(token=token, by=request.user, ip=client_ip(request))
    except Refused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "The previous secret no longer works.")
    return redirect(detail_url)


@admin_required
@require_http_methods(["GET", "POST"])
def token_policy(request):
    organization = request.organization
    status = 200
    if request.method == "POST":
        form = TokenPolicyForm(request.POST)
        if form.is_valid():
            try:
                services.set_token_policy(
                    organization=organization,
                    by=request.user,
                    ip=client_ip(request),
                    **form.cleaned_data,
                )
            except Refused as exc:
                form.add_service_error(exc)
            else:
                if not wants_fragment(request):  # in place, the fragment says it was saved
                    messages.success(request, "Token policy saved.")
                    return redirect("token_policy", org_id=organization.public_id)
                return render(request, POLICY, {"form": form, "saved": True})
        status = 400
    else:
        policy = services.policy_of(organization)
        form = TokenPolicyForm(
            initial={
                "require_expiry": policy.require_expiry,
                "max_lifetime_days": policy.max_lifetime_days,
                "max_live_tokens_per_member": policy.max_live_tokens_per_member,
                "require_jwt_exp": policy.require_jwt_exp,
            }
        )
    return render_page_or_fragment(
        request,
        POLICY_PAGE,
        POLICY,
        {"form": form},
        status=status,
    )
