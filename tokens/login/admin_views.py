"""An admin ends a member's login session from the organization's credential inventory.

Members end their own sessions on their Sessions page (views.py); this is the admin's
door, for offboarding or a lost laptop, behind a confirmation like every revocation.
"""

import datetime

from django.conf import settings
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from accounts.decorators import admin_required
from accounts.http import client_ip, return_url

from ..models import Kind, RefreshToken
from . import services


@admin_required
@require_http_methods(["GET", "POST"])
def member_session_end(request, session_id):
    """GET names the consequence; the POST from that confirmation ends the session."""
    lifetime = datetime.timedelta(seconds=settings.LOGIN_REFRESH_TOKEN_LIFETIME_SECONDS)
    session = get_object_or_404(
        RefreshToken.objects.select_related("user", "access_token").filter(
            revoked__isnull=True,
            access_token__kind=Kind.LOGIN,
            access_token__organization=request.organization,
            created__gt=timezone.now() - lifetime,
        ),
        token_family=session_id,
    )
    if request.method == "GET":
        context = {"session": session, "return_to": return_url(request)}
        return render(request, "tokens/admin/session_end.html", context)
    services.end_session(
        user=session.user,
        organization=request.organization,
        session_id=session_id,
        by=request.user,
        ip=client_ip(request),
    )
    messages.success(request, f"Session of {session.user.email} ended. Its tokens no longer work.")
    return redirect(
        return_url(request)
        or reverse("credential_inventory", args=[request.organization.public_id])
    )
