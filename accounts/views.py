"""The portal pages of accounts: logging in, switching organizations, the organization's home,
the Members page with an admin's invitations and member changes (each service announces what it
changed, and tokens audits it), and a person's own invitations."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import Resolver404, resolve, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import services as accounts
from .decorators import admin_required, member_required
from .errors import Refused
from .forms import DeveloperAccessForm, InviteForm, RoleForm, ThrottledFormMixin, roles_up_to
from .http import client_ip
from .models import Invitation, Membership, Role


class EmailAuthenticationForm(ThrottledFormMixin, AuthenticationForm):
    error_messages = {
        "invalid_login": "That email and password do not match an account that may log in here.",
        "inactive": "This account is deactivated.",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "Email"
        self.fields["username"].widget.attrs.update({"autocomplete": "email", "type": "email"})


class LoginView(auth_views.LoginView):
    form_class = EmailAuthenticationForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.throttled is not None:
            response.status_code = 429
            response["Retry-After"] = str(form.throttled.retry_after)
        return response


def same_page_in(membership, path):
    """`path` (a page of another organization) in `membership`'s organization, when that page
    exists there and its person may open it; None otherwise. Only organization-level pages
    carry over: one naming an object (a token, a client) names the first organization's."""
    prefix, _, rest = (path or "").partition("/orgs/")
    if prefix or not rest or "/" not in rest:
        return None
    candidate = f"/orgs/{membership.organization.public_id}/{rest.partition('/')[2]}"
    try:
        match = resolve(candidate)
    except Resolver404:
        return None
    if set(match.kwargs) != {"org_id"}:
        return None
    if "/admin/" in candidate and not membership.is_admin:
        return None
    if "/developer/" in candidate and not membership.has_developer_access:
        return None
    return candidate


@require_GET
@login_required
def switch_org(request):
    """The org switcher's form lands here (works without JavaScript): the same page in the
    other organization when it exists there, else its overview."""
    org_id = request.GET.get("org", "")
    membership = Membership.objects.of_user_in(request.user, org_id)
    return redirect(
        same_page_in(membership, request.GET.get("next")) or reverse("org_home", args=[org_id])
    )


@member_required
def org_home(request):
    return render(request, "accounts/org_home.html")


def members_context(request, *, invite_form=None):
    """What the Members page shows; the member actions below re-render it with their form's
    errors."""
    memberships = request.organization.memberships.select_related("user").order_by(
        "user__is_service_account", "user__email"
    )
    return {
        "members": memberships,
        "invitations": request.organization.invitations.pending().select_related("invited_by"),
        "invite_form": invite_form or InviteForm(by_role=request.membership.role),
        "roles": roles_up_to(request.membership.role),
        "admin_role": Role.ADMIN,
    }


@admin_required
@require_GET
def members(request):
    return render(request, "accounts/members.html", members_context(request))


# --- a person accepts or declines the invitations sent to their email ------------------------


@require_GET
@login_required
def invitations(request):
    pending = Invitation.objects.pending_for(request.user)
    return render(request, "chats/invitations.html", {"invitations": pending})


@require_POST
@login_required
def invitation_accept(request, invitation_id):
    invitation = get_object_or_404(Invitation.objects.pending_for(request.user), pk=invitation_id)
    membership = accounts.accept_invitation(
        invitation=invitation, user=request.user, ip=client_ip(request)
    )
    return redirect("org_home", org_id=membership.organization.public_id)


@require_POST
@login_required
def invitation_decline(request, invitation_id):
    invitation = get_object_or_404(Invitation.objects.pending_for(request.user), pk=invitation_id)
    accounts.decline_invitation(invitation=invitation, user=request.user)
    return redirect("invitations")


# --- an admin manages the organization's members ------------------------------------------


def _members_page(request):
    return redirect("admin_members", org_id=request.organization.public_id)


def _member(request, membership_id):
    """A member of the admin's own organization (another organization's answers 404)."""
    return get_object_or_404(
        request.organization.memberships.select_related("user"), pk=membership_id
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
                ip=client_ip(request),
                **form.cleaned_data,
            )
        except Refused as refused:
            form.add_error(refused.field if refused.field in form.fields else None, refused.message)
        else:
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
        accounts.withdraw_invitation(invitation=invitation, by=request.user, ip=client_ip(request))
    except Refused as refused:
        messages.error(request, refused.message)
        return _members_page(request)
    messages.success(request, f"Invitation of {invitation.email} withdrawn.")
    return _members_page(request)


def _update_member(request, member, **change):
    accounts.update_member(
        membership=member,
        by=request.user,
        by_role=request.membership.role,
        ip=client_ip(request),
        **change,
    )


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
        _update_member(request, member, role=form.cleaned_data["role"])
    except Refused as refused:
        messages.error(request, refused.message)
        return _members_page(request)
    if member.role != before:
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
        _update_member(request, member, developer_access=grant)
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
        accounts.remove_member(membership=member, by=request.user, ip=client_ip(request))
    except Refused as refused:
        messages.error(request, refused.message)
        return _members_page(request)
    messages.success(
        request, f"{member.user.display_name} was removed from {request.organization.name}."
    )
    return _members_page(request)
