from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from .decorators import admin_required, member_required
from .forms import ThrottledFormMixin
from .models import Membership


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


@require_GET
@login_required
def switch_org(request):
    """The org switcher's form lands here (works without JavaScript)."""
    org_id = request.GET.get("org", "")
    if not Membership.objects.filter(user=request.user, organization__public_id=org_id).exists():
        raise Http404("No such organization.")
    return redirect("org_home", org_id=org_id)


@member_required
def org_home(request):
    return render(request, "accounts/org_home.html")


@admin_required
def members(request):
    memberships = (
        request.organization.memberships.select_related("user").order_by("user__email")
    )
    return render(request, "accounts/members.html", {"members": memberships})
