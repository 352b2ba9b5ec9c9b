from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.views import PasswordChangeView
from django.urls import reverse

from .forms import AdminLoginForm, AdminOwnPasswordChangeForm
from .models import Invitation, Membership, Organization, OrganizationGroup, ThrottleCounter, User

# The admin's two doors that take a password go through the throttled backend like every other.
admin.site.login_form = AdminLoginForm


class _AdminPasswordChangeView(PasswordChangeView):
    form_class = AdminOwnPasswordChangeForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}


def _password_change(request, extra_context=None):
    """AdminSite.password_change with the throttled form (AdminSite offers no setting for it)."""
    request.current_app = admin.site.name
    return _AdminPasswordChangeView.as_view(
        success_url=reverse("admin:password_change_done", current_app=admin.site.name),
        extra_context={**admin.site.each_context(request), **(extra_context or {})},
    )(request)


admin.site.password_change = _password_change


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["organization"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "name", "is_service_account", "is_active", "is_staff"]
    list_filter = ["is_service_account", "is_active", "is_staff"]
    search_fields = ["email", "name"]
    inlines = [MembershipInline]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Profile", {"fields": ["name", "is_service_account"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]


@admin.register(OrganizationGroup)
class OrganizationGroupAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["owners"]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "public_id", "group"]
    search_fields = ["name", "slug", "public_id"]
    readonly_fields = ["public_id"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "role", "developer_access"]
    list_filter = ["role", "developer_access", "organization"]
    search_fields = ["user__email", "organization__name"]
    list_select_related = ["user", "organization"]
    autocomplete_fields = ["user", "organization"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = [
        "email",
        "organization",
        "role",
        "developer_access",
        "created_at",
        "accepted_at",
    ]
    list_filter = ["role", "organization"]
    search_fields = ["email", "organization__name"]
    list_select_related = ["organization"]
    readonly_fields = ["invited_by", "created_at", "accepted_at"]


@admin.register(ThrottleCounter)
class ThrottleCounterAdmin(admin.ModelAdmin):
    """Read-only; deleting a row lifts that lockout. Accounts are hashed: search by accounts.throttle.account_key."""

    list_display = ["key", "count", "window_ends"]
    search_fields = ["key"]
    readonly_fields = ["key", "count", "window_ends"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
