from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve, reverse
from django.views.decorators.http import require_GET

from .decorators import admin_required, member_required
from .forms import InviteForm, ThrottledFormMixin, roles_up_to
from .models import Membership, Role


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
    membership = (
        Membership.objects.with_org()
        .filter(user=request.user, organization__public_id=org_id)
        .first()
    )
    if membership is None:
        raise Http404("No such organization.")
    return redirect(
        same_page_in(membership, request.GET.get("next")) or reverse("org_home", args=[org_id])
    )


@member_required
def org_home(request):
    return render(request, "accounts/org_home.html")


def members_context(request, *, invite_form=None):
    """What the Members page shows; the member actions (in chats, since they are audited)
    re-render it with their form's errors."""
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
