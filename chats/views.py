"""The portal side of memberships: a person accepts or declines the invitations sent to their email.

These sit in chats, beside the users API that sends invitations, because accepting
is audited and accounts (the ground floor) may not import the audit writer.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from accounts import services as accounts
from accounts.decorators import admin_required
from accounts.http import client_ip
from accounts.models import Invitation
from tokens import audit
from tokens.models import AuditEvent, CredentialKind

from . import deliveries
from .models import EVENT_CATEGORIES


@require_GET
@login_required
def invitations(request):
    pending = Invitation.objects.pending_for(request.user)
    return render(request, "chats/invitations.html", {"invitations": pending})


@require_POST
@login_required
def invitation_accept(request, invitation_id):
    invitation = get_object_or_404(Invitation.objects.pending_for(request.user), pk=invitation_id)
    membership = accounts.accept_invitation(invitation=invitation, user=request.user)
    audit.record(organization=membership.organization, actor=request.user,
                 action=AuditEvent.Action.MEMBER_ADDED, kind=CredentialKind.MEMBER, ip=client_ip(request),
                 detail=f"{request.user.email} accepted an invitation as {membership.role}")
    return redirect("org_home", org_id=membership.organization.public_id)


@require_POST
@login_required
def invitation_decline(request, invitation_id):
    invitation = get_object_or_404(Invitation.objects.pending_for(request.user), pk=invitation_id)
    accounts.decline_invitation(invitation=invitation, user=request.user)
    return redirect("invitations")


DELIVERIES_PER_PAGE = 50


@require_GET
@admin_required
def webhooks(request):
    """Admin › Webhooks: each webhook of the organization, linking to its delivery log."""
    hooks = request.organization.webhooks.order_by("-created_at", "-id")
    return render(request, "chats/webhooks.html", {"webhooks": hooks, "categories": EVENT_CATEGORIES})


@require_GET
@admin_required
def webhook_deliveries(request, webhook_id):
    """One webhook's delivery log, newest first: event, status, attempts, response time, next retry."""
    webhook = get_object_or_404(request.organization.webhooks, pk=webhook_id)
    log = webhook.deliveries.select_related("event").order_by("-created_at", "-id")
    page = Paginator(log, DELIVERIES_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "chats/webhook_deliveries.html", {"webhook": webhook, "page": page})


@require_POST
@admin_required
def webhook_redeliver(request, webhook_id, delivery_id):
    webhook = get_object_or_404(request.organization.webhooks, pk=webhook_id)
    delivery = deliveries.redeliver(get_object_or_404(webhook.deliveries, pk=delivery_id))
    messages.success(request, f"Delivery {delivery.pk} will be sent again now.")
    return redirect("webhook_deliveries", org_id=request.organization.public_id, webhook_id=webhook.pk)
