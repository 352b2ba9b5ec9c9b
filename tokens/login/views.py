"""Portal pages for login sessions and the password, and the public JWK set."""

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST

from accounts.decorators import member_required
from accounts.http import client_ip

from . import services, signing_keys
from .forms import PasswordChange
from .sessions import describe, sessions_for_list

SESSIONS_PER_PAGE = 50


@require_GET
def jwks(request):
    """The public keys that verify login tokens (RFC 7517); cacheable, never a private part."""
    response = JsonResponse(signing_keys.jwks())
    response["Cache-Control"] = f"public, max-age={signing_keys.JWKS_MAX_AGE_SECONDS}"
    return response


def _session_page(request):
    rows = sessions_for_list(user=request.user, organization=request.organization)
    page = Paginator(rows, SESSIONS_PER_PAGE).get_page(request.GET.get("page"))
    return {"sessions": [describe(rt) for rt in page], "page": page}


@member_required
def sessions(request):
    """Every member sees their own login sessions in this organization."""
    return render(request, "tokens/login/sessions.html", _session_page(request))


@require_POST
@member_required
def session_end(request, session_id):
    ended = services.end_session(
        user=request.user,
        organization=request.organization,
        session_id=session_id,
        ip=client_ip(request),
    )
    if ended is None:
        raise Http404("No such session.")
    if request.htmx:  # the "ended" row is the status message itself
        return render(
            request, "tokens/login/partials/session_row_ended.html", {"session_id": session_id}
        )
    messages.success(request, "Session ended. Its tokens no longer work.")
    return redirect("sessions", org_id=request.organization.public_id)


@require_POST
@member_required
def sessions_end_all(request):
    """The portal is not a login session itself, so "all other" is every one listed."""
    ended = services.end_sessions(
        user=request.user, organization=request.organization, by=request.user, ip=client_ip(request)
    )
    note = f"{ended} session{'s' if ended != 1 else ''} ended."
    if request.htmx:
        return render(
            request,
            "tokens/login/partials/session_list.html",
            {**_session_page(request), "note": note},
        )
    messages.success(request, note)
    return redirect("sessions", org_id=request.organization.public_id)


@sensitive_post_parameters("old_password", "new_password1", "new_password2")
@member_required
def password_change(request):
    form = PasswordChange(request.user, request.POST or None, request=request)
    if request.method == "POST" and form.is_valid():
        ended = services.change_password(
            user=request.user,
            new_password=form.cleaned_data["new_password1"],
            end_other_sessions=form.cleaned_data["end_other_sessions"],
            ip=client_ip(request),
        )
        update_session_auth_hash(request, request.user)  # this browser stays logged in
        note = "Your password was changed."
        if form.cleaned_data["end_other_sessions"]:
            note += f" {ended} other session{'s' if ended != 1 else ''} ended."
        messages.success(request, note)
        return redirect("sessions", org_id=request.organization.public_id)
    return render(request, "tokens/login/password_change.html", {"form": form})
