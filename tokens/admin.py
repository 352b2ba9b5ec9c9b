"""Admin screens for credentials: read-only, and never a secret or a digest.

django-oauth-toolkit registers its own admin for the swapped models; ours
replaces it so that no form can write a token and no page shows a hash.
"""

from django.contrib import admin
from oauth2_provider.models import (
    get_access_token_model,
    get_application_model,
    get_refresh_token_model,
)

from .models import (
    AllowlistReport,
    ApiKey,
    AuditEvent,
    CreditBalance,
    ExpiryReminder,
    LimitNotice,
    Limits,
    ReviewItem,
    RotationNotice,
    SigningKey,
    TokenPolicy,
    UsageRollup,
)

for model in (get_access_token_model(), get_refresh_token_model(), get_application_model()):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Credential writes go through each kind's services (audit, policy), never through the admin."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(get_access_token_model())
class AccessTokenAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "kind",
        "name",
        "organization",
        "user",
        "masked",
        "created",
        "expires",
        "revoked_at",
        "last_used_at",
    ]
    list_filter = ["kind", "organization"]
    list_select_related = ["organization", "user"]
    search_fields = ["name", "user__email", "last4"]
    fields = [
        "kind",
        "name",
        "organization",
        "membership",
        "user",
        "application",
        "scope",
        "masked",
        "created",
        "created_by",
        "created_ip",
        "expires",
        "revoked_at",
        "last_used_at",
        "last_used_ip",
    ]
    readonly_fields = fields

    @admin.display(description="token")
    def masked(self, obj):
        return f"…{obj.last4}" if obj.last4 else "(hidden)"

    def has_delete_permission(self, request, obj=None):
        return False  # revoke through the portal or API, so it is audited


@admin.register(get_refresh_token_model())
class RefreshTokenAdmin(ReadOnlyAdmin):
    list_display = ["id", "user", "application", "created", "revoked"]
    fields = ["user", "application", "access_token", "token_family", "created", "revoked"]
    readonly_fields = fields


@admin.register(get_application_model())
class ApplicationAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "name",
        "organization",
        "client_id",
        "client_type",
        "authorization_grant_type",
    ]
    list_select_related = ["organization"]
    fields = [
        "name",
        "organization",
        "client_id",
        "client_type",
        "authorization_grant_type",
        "redirect_uris",
        "created_by",
        "created",
        "updated",
    ]
    readonly_fields = fields


@admin.register(TokenPolicy)
class TokenPolicyAdmin(ReadOnlyAdmin):
    list_display = [
        "organization",
        "require_expiry",
        "max_lifetime_days",
        "max_live_tokens_per_member",
        "require_jwt_exp",
    ]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "organization",
        "actor",
        "action",
        "credential_kind",
        "credential_id",
        "credential_last4",
        "ip",
    ]
    list_filter = ["action", "credential_kind", "organization"]
    list_select_related = ["organization", "actor"]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyAdmin):
    list_display = [
        "key_id",
        "name",
        "organization",
        "reach",
        "allow_jwt",
        "masked",
        "created_at",
        "revoked_at",
        "last_used_at",
    ]
    list_filter = ["reach", "organization"]
    list_select_related = ["organization"]
    search_fields = ["key_id", "name"]
    fields = [
        "key_id",
        "name",
        "organization",
        "membership",
        "scope",
        "reach",
        "allow_jwt",
        "masked",
        "created_by",
        "created_ip",
        "created_at",
        "last_used_at",
        "last_used_ip",
        "revoked_at",
    ]
    readonly_fields = fields

    @admin.display(description="secret")
    def masked(self, obj):
        return f"…{obj.secret_last4}"

    def has_delete_permission(self, request, obj=None):
        return False  # delete through the portal or API, so it is audited


@admin.register(SigningKey)
class SigningKeyAdmin(ReadOnlyAdmin):
    """Public halves only; the sealed private key never shows."""

    list_display = ["kid", "algorithm", "created_at", "retired_at"]
    fields = ["kid", "algorithm", "public_jwk", "created_at", "retired_at"]
    readonly_fields = fields

    def has_delete_permission(self, request, obj=None):
        return False  # rotate with `manage.py rotate_signing_key`


@admin.register(ExpiryReminder)
class ExpiryReminderAdmin(ReadOnlyAdmin):
    """Which expiry reminders were claimed and sent (`manage.py run_schedule` writes them)."""

    list_display = ["credential_kind", "credential_id", "stage", "expires", "created_at", "sent_at"]
    list_filter = ["stage", "credential_kind"]


@admin.register(ReviewItem)
class ReviewItemAdmin(ReadOnlyAdmin):
    """Decisions go through the review page or API (tokens.review), never through here."""

    list_display = [
        "member_email",
        "credential_kind",
        "credential_name",
        "reason",
        "decision",
        "created_at",
    ]
    list_filter = ["reason", "decision"]
    list_select_related = ["organization"]


@admin.register(UsageRollup)
class UsageRollupAdmin(ReadOnlyAdmin):
    """How far the roll-ups have gone. (The usage counts themselves have composite primary
    keys, which Django's admin cannot show: Admin › Usage and the API read them.)"""

    list_display = ["level", "done_until"]


@admin.register(RotationNotice)
class RotationNoticeAdmin(ReadOnlyAdmin):
    """Which rotations were announced as idle (credential.rotation_idle)."""

    list_display = ["credential_kind", "credential_id", "overlap_until", "created_at"]


@admin.register(Limits)
class LimitsAdmin(ReadOnlyAdmin):
    """Limits are set through the portal or the API (audited, validated), never here. (The
    rate-limit cells have composite primary keys, which Django's admin cannot show.)"""

    list_display = [
        "organization",
        "credential_kind",
        "credential_id",
        "credits",
        "allowlist_report_only",
        "updated_at",
    ]


@admin.register(CreditBalance)
class CreditBalanceAdmin(ReadOnlyAdmin):
    list_display = ["limits", "remaining", "period_credits", "period_start"]


@admin.register(LimitNotice)
class LimitNoticeAdmin(ReadOnlyAdmin):
    """Which credits-low and rate-limited notices were sent (each once per period)."""

    list_display = ["limits", "event", "key", "period"]


@admin.register(AllowlistReport)
class AllowlistReportAdmin(ReadOnlyAdmin):
    """Addresses a report-only allowlist would have refused."""

    list_display = ["limits", "address", "first_seen", "last_seen", "count"]
