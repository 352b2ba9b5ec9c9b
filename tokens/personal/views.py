"""Portal pages: the developer's personal access tokens and the organization's token policy.

The create → result page → detail → rename → rotate → delete flow is `tokens.pages`'; what is a
personal token's own is below: its form (expiry within the org's policy), its services, the
result page naming the token a rotation replaced, narrowing to the scopes used lately, and
the organization's token policy.
"""

import datetime

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_http_methods

from accounts.decorators import admin_required, developer_required
from accounts.errors import Refused
from accounts.http import client_ip, render_page_or_fragment, wants_fragment

from .. import handoff, pages
from ..forms import grace_consequence
from ..models import AccessToken
from ..rules import GRACE_PERIODS
from ..usage.views import usage_context
from . import services
from .forms import TokenCreateForm, TokenPolicyForm, TokenRenameForm, TokenRotateForm

POLICY_PAGE = "tokens/personal/token_policy.html"
POLICY = "tokens/personal/partials/token_policy_form.html"


def replaced_note(token):
    """The result page's note on the token a rotation or narrowing replaced."""
    token.refresh_from_db(fields=["revoked_at"])
    still_works = not token.is_revoked()
    return {
        "how": "rotated",
        "old_last4": token.last4,
        "old_until": token.revoked_at.isoformat() if still_works else None,
    }


class TokenPages(pages.CredentialPages):
    model = AccessToken
    name = "token"
    id_kwarg = "token_id"
    object_name = "token"
    label = "Access tokens"
    create_label = "Generate new token"
    noun = "token"
    sparkline_kind = "personal"
    rename_form_class = TokenRenameForm
    rotate_form_class = TokenRotateForm
    grace_field = "grace_period"
    renamed_message = "Token renamed."
    rotation_keeps_id = False
    create_service = staticmethod(services.issue_personal_token)
    create_fields = ("name", "scopes", "expires_at", "owner")
    rename_service = staticmethod(services.rename_token)
    rotate_service = staticmethod(services.rotate_token)
    revoke_service = staticmethod(services.revoke_token)
    end_overlap_service = staticmethod(services.end_overlap)

    def create_form(self, request, data=None):
        return TokenCreateForm(
            data,
            membership=request.membership,
            policy=services.policy_of(request.organization),
            service_accounts=pages.service_accounts(request),
        )

    def usage(self, request, token):
        previous = list(token.previous_secrets())
        return usage_context(
            request,
            "personal",
            token,
            token.scope,
            ids=[token.pk, *token.rotated_from.values_list("pk", flat=True)],
            overlap_until=max((old.revoked_at for old in previous), default=None),
        )

    def secret_context(self, request, token, secret, note):
        extra = super().secret_context(request, token, secret, note)
        if note.get("how") == "rotated":
            until = note.get("old_until")
            extra["rotated_from"] = {
                "last4": note.get("old_last4", ""),
                "until": datetime.datetime.fromisoformat(until) if until else None,
            }
        return extra

    def rotated_note(self, token, issued):
        return replaced_note(token)

    def deleted_message(self, token):
        return f"Token “{token.name}” (…{token.last4}) deleted."

    def overlap_until(self, token):
        return token.previous_secret_until


token_pages = TokenPages()
get_visible_token = token_pages.get


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
            return submission.redirect_to_first(token_pages.list_url(request))
    token = get_visible_token(request, token_id)
    detail_url = token_pages.url(request, "detail", token)
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
            handoff.hold(
                request, issued, slot=token_pages.slot(issued.credential), **replaced_note(token)
            )
            return submission.done(token_pages.url(request, "secret", issued.credential))
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
