"""The portal side of memberships: a person accepts or declines the invitations sent to their email.

These sit in chats, beside the users API that sends invitations, because accepting
is audited and accounts (the ground floor) may not import the audit writer.
"""

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from accounts import services as accounts
from accounts.http import client_ip
from accounts.models import Invitation
from tokens import audit
from tokens.models import AuditEvent, CredentialKind


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
