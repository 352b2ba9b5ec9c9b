"""Personal access tokens over the API (`/api/v1/tokens`), through the same services as the portal."""

import datetime

from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.decorators import action

from accounts.http import client_ip

from ..limits.api import LimitsMixin
from ..models import AccessToken, Reach
from ..rules import GRACE_PERIODS, NAME_MAX_LENGTH
from ..usage.api import UsageMixin
from ..viewsets import (
    CredentialSerializer,
    CredentialViewSet,
    RenameSerializer,
    RotatableMixin,
    RotateSerializer,
    scopes_by_action,
)
from . import services


class TokenSerializer(CredentialSerializer):
    scopes = serializers.SerializerMethodField()
    owner = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField(source="created", read_only=True)
    expires_at = serializers.DateTimeField(source="expires", read_only=True)
    old_secret_works_until = serializers.SerializerMethodField()

    class Meta:
        model = AccessToken
        fields = [
            "id",
            "name",
            "scopes",
            "last4",
            "owner",
            "created_by",
            "created_at",
            "created_ip",
            "expires_at",
            "last_used_at",
            "last_used_ip",
            "old_secret_works_until",
            "reach",
            "app_user_id",
        ]
        read_only_fields = fields

    def get_owner(self, token) -> str | None:
        return token.user.email if token.user_id else None

    def get_old_secret_works_until(self, token) -> datetime.datetime | None:
        """When the previous secret of a rotation stops working (null outside an overlap)."""
        if token.revoked_at is not None:
            return token.revoked_at  # a token rotated before successors were recorded
        if hasattr(token, "previous_secret_until"):  # annotated by for_list
            return token.previous_secret_until
        previous = token.previous_secrets().order_by("-revoked_at").first()
        return previous.revoked_at if previous else None


class NewTokenSerializer(TokenSerializer):
    token = serializers.CharField(
        read_only=True, help_text="The secret. Shown once, in this response only."
    )

    class Meta(TokenSerializer.Meta):
        fields = [*TokenSerializer.Meta.fields, "token"]
        read_only_fields = fields


class TokenNarrowSerializer(serializers.Serializer):
    days = serializers.ChoiceField(
        choices=list(services.NARROW_DAYS),
        help_text="Keep the scopes that authorized a request in this many last days.",
    )
    grace_period = serializers.ChoiceField(
        choices=list(GRACE_PERIODS),
        default="24h",
        help_text="How long the old secret keeps working.",
    )


class TokenCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=NAME_MAX_LENGTH)
    scopes = serializers.ListField(child=serializers.CharField(), allow_empty=False)
    expires_at = serializers.DateTimeField(required=False, allow_null=True)
    expires_in_days = serializers.ChoiceField(
        choices=services.EXPIRY_CHOICES_DAYS, required=False, allow_null=True
    )
    owner = serializers.EmailField(
        required=False,
        allow_null=True,
        help_text="A service account of the organization (admins only).",
    )
    reach = serializers.ChoiceField(
        choices=Reach.choices,
        default="app",
        help_text="app: this organization; account: every organization of its group (group owners); "
        "appUser: one contact's own conversations (name it with appUserId).",
    )
    app_user_id = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="The contact's external id, for appUser reach.",
    )

    def validate(self, data):
        if data.get("expires_at") and data.get("expires_in_days"):
            raise serializers.ValidationError("Give expiresAt or expiresInDays, not both.")
        return data


@extend_schema_view(
    partial_update=extend_schema(request=RenameSerializer, responses=TokenSerializer),
    rotate=extend_schema(request=RotateSerializer, responses={201: NewTokenSerializer}),
    end_overlap=extend_schema(request=None, responses=TokenSerializer),
    narrow=extend_schema(request=TokenNarrowSerializer, responses={201: NewTokenSerializer}),
)
class PersonalTokenViewSet(LimitsMixin, UsageMixin, RotatableMixin, CredentialViewSet):
    """Personal access tokens. Developers manage their own; admins every token of the organization."""

    model = AccessToken
    noun = "token"
    immutable_hint = (
        "Scopes and expiry are fixed at creation: create a new token (and revoke this one) instead."
    )
    serializer_class = TokenSerializer
    required_scopes = scopes_by_action("tokens", also_updating=("rotate", "end_overlap", "narrow"))
    new_serializer_class = NewTokenSerializer
    secret_field = "token"
    usage_kind = "personal"

    def visible_to(self, principal, *, org_wide):
        return AccessToken.objects.visible_to(principal, org_wide=org_wide).for_list()

    @extend_schema(request=TokenCreateSerializer, responses={201: NewTokenSerializer})
    def create(self, request):
        body = TokenCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        expires_at = data.get("expires_at")
        if data.get("expires_in_days"):
            expires_at = timezone.now() + datetime.timedelta(days=int(data["expires_in_days"]))
        issued = services.issue_personal_token(
            issuer=self.issuer(),
            name=data["name"],
            scopes=data["scopes"],
            expires_at=expires_at,
            owner=self.owner_named(data["owner"]) if data.get("owner") else None,
            ip=client_ip(request),
            bound_by=request.auth.scopes,
            reach=data["reach"],
            app_user_id=data["app_user_id"],
            bound_reach=request.auth.reach,
        )
        return self.secret_response(
            issued, NewTokenSerializer(issued.credential).data, self.secret_field
        )

    def rename(self, credential, *, name, by, ip):
        services.rename_token(token=credential, name=name, by=by, ip=ip)

    def rotate_with(self, credential, *, grace, by, ip):
        return services.rotate_token(token=credential, grace=grace, by=by, ip=ip)

    @action(detail=True, methods=["post"])
    def narrow(self, request, pk=None):
        """Rotate into a token with only the scopes used in the last `days` days (the new
        secret shown once, the old one working for the grace period)."""
        token = self.get_object()
        body = TokenNarrowSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        issued = services.narrow_token(
            token=token,
            days=int(body.validated_data["days"]),
            grace=body.validated_data["grace_period"],
            by=request.user,
            ip=client_ip(request),
        )
        payload = NewTokenSerializer(issued.credential).data
        return self.secret_response(issued, payload, self.secret_field)

    def end_overlap_with(self, credential, *, by, ip):
        services.end_overlap(token=credential, by=by, ip=ip)

    def usage_ids(self, credential):
        """Its own id and its previous secrets' rows: one credential, two secrets."""
        return [credential.pk, *credential.rotated_from.values_list("pk", flat=True)]

    def perform_destroy(self, token):
        services.revoke_token(token=token, by=self.request.user, ip=client_ip(self.request))


# Registered under /api/v1/ by tokens/api_urls.py: (prefix, viewset, basename).
ROUTES = [("tokens", PersonalTokenViewSet, "token")]
