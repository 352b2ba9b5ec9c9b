"""The portal side of memberships: a person accepts or declines the invitations sent to their email,
and an admin invites, changes and removes members.

These sit in chats, beside the users API that sends invitations, because accepting
is audited and accounts (the ground floor) may not import the audit writer.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import services as accounts
from accounts.decorators import admin_required
from accounts.errors import Refused
from accounts.forms import DeveloperAccessForm, InviteForm, RoleForm
from accounts.http import client_ip
from accounts.models import Invitation
from accounts.views import members_context
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
    audit.record(
        organization=membership.organization,
        actor=request.user,
        action=AuditEvent.Action.MEMBER_ADDED,
        kind=CredentialKind.MEMBER,
        ip=client_ip(request),
        detail=f"{request.user.email} accepted an invitation as {membership.role}",
    )
    return redirect("org_home", org_id=membership.organization.public_id)


@require_POST
@login_required
def invitation_decline(request, invitation_id):
    invitation = get_object_or_404(Invitation.objects.pending_for(request.user), pk=invitation_id)
    accounts.decline_invitation(invitation=invitation, user=request.user)
    return redirect("invitations")


# --- an admin manages the organization's members ------------------------------------------
# Here rather than in accounts for the same reason as above: every change is audited.


def _members_page(request):
    return redirect("admin_members", org_id=request.organization.public_id)


def _member(request, membership_id):
    """A member of the admin's own organization (another organization's answers 404)."""
    return get_object_or_404(
        request.organization.memberships.select_related("user"), pk=membership_id
    )


def _record_member_event(request, action, detail):
    audit.record(
        organization=request.organization,
        actor=request.user,
        action=action,
        kind=CredentialKind.MEMBER,
        ip=client_ip(request),
        detail=detail,
    )


@require_POST
@admin_required
def member_invite(request):
    """Invite a person by email; they join when they accept (never enrolled without consent)."""
    form = InviteForm(request.POST, by_role=request.membership.role)
    if form.is_valid():
        try:
            invitation = accounts.invite_member(
                organization=request.organization,
                by=request.user,
                by_role=request.membership.role,
                **form.cleaned_data,
            )
        except Refused as refused:
            form.add_error(refused.field if refused.field in form.fields else None, refused.message)
        else:
            _record_member_event(
                request,
                AuditEvent.Action.INVITED,
                f"invited {invitation.email} as {invitation.role}",
            )
            messages.success(
                request, f"Invitation sent to {invitation.email}. They join when they accept it."
            )
            return _members_page(request)
    context = members_context(request, invite_form=form)
    return render(request, "accounts/members.html", context, status=400)


@require_POST
@admin_required
def member_invitation_withdraw(request, invitation_id):
    """Take back a pending invitation (a typo in the email, a change of mind)."""
    invitation = get_object_or_404(request.organization.invitations.pending(), pk=invitation_id)
    try:
        accounts.withdraw_invitation(invitation=invitation, by=request.user)
    except Refused as refused:
        messages.error(request, refused.message)
        return _members_page(request)
    _record_member_event(
        request, AuditEvent.Action.MEMBER_CHANGED, f"withdrew the invitation of {invitation.email}"
    )
    messages.success(request, f"Invitation of {invitation.email} withdrawn.")
    return _members_page(request)


@require_POST
@admin_required
def member_role(request, membership_id):
    member = _member(request, membership_id)
    form = RoleForm(request.POST, by_role=request.membership.role)
    if not form.is_valid():
        messages.error(request, "You cannot give that role.")
        return _members_page(request)
    before = member.role
    try:
        accounts.update_member(
            membership=member,
            by=request.user,
            by_role=request.membership.role,
            role=form.cleaned_data["role"],
        )
    except Refused as refused:
        messages.error(request, refused.message)
        return _members_page(request)
    if member.role != before:
        _record_member_event(
            request,
            AuditEvent.Action.MEMBER_CHANGED,
            f"{member.user.email}: role {before!r} -> {member.role!r}",
        )
        messages.success(request, f"{member.user.display_name} is now {member.get_role_display()}.")
    return _members_page(request)


@require_POST
@admin_required
def member_developer_access(request, membership_id):
    """Grant or remove developer access (admins have it whatever the flag says)."""
    member = _member(request, membership_id)
    grant = (
        DeveloperAccessForm(request.POST).is_valid()
        and request.POST.get("developer_access") == "on"
    )
    if grant != member.developer_access:
        accounts.update_member(
            membership=member,
            by=request.user,
            by_role=request.membership.role,
            developer_access=grant,
        )
        _record_member_event(
            request,
            AuditEvent.Action.MEMBER_CHANGED,
            f"{member.user.email}: developer access {'granted' if grant else 'removed'}",
        )
        messages.success(
            request,
            f"Developer access {'granted to' if grant else 'removed from'} "
            f"{member.user.display_name}.",
        )
    return _members_page(request)


@require_http_methods(["GET", "POST"])
@admin_required
def member_remove(request, membership_id):
    """GET names the consequence; only the POST from that confirmation removes."""
    member = _member(request, membership_id)
    if request.method == "GET":
        return render(request, "accounts/member_remove.html", {"member": member})
    try:
        accounts.remove_member(membership=member, by=request.user)
    except Refused as refused:
        messages.error(request, refused.message)
        return _members_page(request)
    _record_member_event(
        request, AuditEvent.Action.MEMBER_REMOVED, f"removed {member.user.email} ({member.role})"
    )
    messages.success(
        request, f"{member.user.display_name} was removed from {request.organization.name}."
    )
    return _members_page(request)
