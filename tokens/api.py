"""The credential API: personal access tokens, through the same services as the portal."""

import datetime

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from accounts.errors import Refused
from accounts.http import client_ip
from accounts.models import Membership

from . import api_keys, audit, services
from .models import AccessToken, ApiKey, Reach


class TokenSerializer(serializers.ModelSerializer):
    scopes = serializers.SerializerMethodField()
    owner = serializers.SerializerMethodField()
    created_by = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField(source="created", read_only=True)
    expires_at = serializers.DateTimeField(source="expires", read_only=True)
    old_secret_works_until = serializers.SerializerMethodField()

    class Meta:
        model = AccessToken
        fields = [
            "id", "name", "scopes", "last4", "owner", "created_by", "created_at", "created_ip",
            "expires_at", "last_used_at", "last_used_ip", "old_secret_works_until", "reach", "app_user_id",
        ]
        read_only_fields = fields

    def get_scopes(self, token) -> list[str]:
        return token.scope_list

    def get_owner(self, token) -> str | None:
        return token.user.email if token.user_id else None

    def get_created_by(self, token) -> str | None:
        return token.created_by.email if token.created_by_id else None

    def get_old_secret_works_until(self, token) -> datetime.datetime | None:
        return token.revoked_at  # only listed while in the future (rotation grace period)


class NewTokenSerializer(TokenSerializer):
    token = serializers.CharField(read_only=True, help_text="The secret. Shown once, in this response only.")

    class Meta(TokenSerializer.Meta):
        fields = TokenSerializer.Meta.fields + ["token"]
        read_only_fields = fields


class TokenCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=services.NAME_MAX_LENGTH)
    scopes = serializers.ListField(child=serializers.CharField(), allow_empty=False)
    expires_at = serializers.DateTimeField(required=False, allow_null=True)
    expires_in_days = serializers.ChoiceField(
        choices=services.EXPIRY_CHOICES_DAYS, required=False, allow_null=True
    )
    owner = serializers.EmailField(
        required=False, allow_null=True, help_text="A service account of the organization (admins only)."
    )
    reach = serializers.ChoiceField(
        choices=Reach.choices, default="app",
        help_text="app: this organization; account: every organization of its group (group owners); "
        "appUser: one contact's own conversations (name it with appUserId).",
    )
    app_user_id = serializers.CharField(required=False, allow_blank=True, default="",
                                        help_text="The contact's external id, for appUser reach.")

    def validate(self, data):
        if data.get("expires_at") and data.get("expires_in_days"):
            raise serializers.ValidationError("Give expiresAt or expiresInDays, not both.")
        return data


class TokenRenameSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=services.NAME_MAX_LENGTH)


class TokenRotateSerializer(serializers.Serializer):
    grace_period = serializers.ChoiceField(choices=list(services.GRACE_PERIODS), default="none")


class PersonalTokenViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """Personal access tokens. Developers manage their own; admins every token of the organization."""

    serializer_class = TokenSerializer
    required_scopes = {
        "list": ["read.tokens"],
        "retrieve": ["read.tokens"],
        "create": ["create.tokens"],
        "partial_update": ["update.tokens"],
        "rotate": ["update.tokens"],
        "destroy": ["delete.tokens"],
    }

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular inspecting, no caller
            return AccessToken.objects.none()
        principal = self.request.auth
        tokens = (
            AccessToken.objects.personal()
            .filter(organization_id=principal.organization_id)
            .exclude(revoked_at__lte=timezone.now())
            .select_related("user", "created_by", "organization")
            .order_by("-created", "-id")
        )
        org_wide = self.action != "list" or self.request.query_params.get("scope") == "org"
        if principal.role == "admin" and org_wide:
            return tokens
        return tokens.filter(membership_id=principal.membership_id)

    def _issuer(self):
        return Membership.objects.select_related("organization", "user").get(
            pk=self.request.auth.membership_id
        )

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "scope", str, enum=["org"], description="`org`: every token of the organization (admins only)."
            )
        ]
    )
    def list(self, request, *args, **kwargs):
        if request.query_params.get("scope") == "org" and request.auth.role != "admin":
            raise PermissionDenied("Only admins may list every token of the organization.")
        return super().list(request, *args, **kwargs)

    @extend_schema(request=TokenCreateSerializer, responses={201: NewTokenSerializer})
    def create(self, request):
        body = TokenCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        issuer = self._issuer()
        owner = None
        if data.get("owner"):
            owner = Membership.objects.select_related("user", "organization").filter(
                organization_id=issuer.organization_id, user__email__iexact=data["owner"]
            ).first()
            if owner is None:
                raise Refused(
                    "owner_not_found", "No such service account in this organization.", "owner")
        expires_at = data.get("expires_at")
        if data.get("expires_in_days"):
            expires_at = timezone.now() + datetime.timedelta(days=int(data["expires_in_days"]))
        issued = services.issue_personal_token(
            issuer=issuer, name=data["name"], scopes=data["scopes"], expires_at=expires_at,
            owner=owner, ip=client_ip(request), bound_by=request.auth.scopes,
            reach=data["reach"], app_user_id=data["app_user_id"], bound_reach=request.auth.reach,
        )
        return self._secret_response(issued)

    def _secret_response(self, issued):
        payload = NewTokenSerializer(issued.credential).data
        payload["token"] = audit.reveal(issued, by=self.request.user, ip=client_ip(self.request))
        return Response(payload, status=status.HTTP_201_CREATED, headers={"Cache-Control": "no-store"})

    @extend_schema(request=TokenRenameSerializer, responses=TokenSerializer)
    def partial_update(self, request, pk=None):
        token = self.get_object()
        fixed = sorted(set(request.data) - {"name"})
        if fixed:
            raise ValidationError({
                "code": "immutable_field",
                "detail": "Only the name of a token can change; scopes and expiry are fixed at creation. "
                "Create a new token (and revoke this one) instead.",
                "errors": {field: ["This field cannot be changed."] for field in fixed},
            })
        body = TokenRenameSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.rename_token(token=token, name=body.validated_data["name"], by=request.user,
                              ip=client_ip(request))
        return Response(TokenSerializer(token).data)


    @extend_schema(request=TokenRotateSerializer, responses={201: NewTokenSerializer})
    @action(detail=True, methods=["post"])
    def rotate(self, request, pk=None):
        token = self.get_object()
        body = TokenRotateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        issued = services.rotate_token(token=token, grace=body.validated_data["grace_period"],
                                       by=request.user, ip=client_ip(request))
        return self._secret_response(issued)

    def perform_destroy(self, token):
        services.revoke_token(token=token, by=self.request.user, ip=client_ip(self.request))


class ApiKeySerializer(serializers.ModelSerializer):
    scopes = serializers.SerializerMethodField()
    owner = serializers.SerializerMethodField()
    created_by = serializers.SerializerMethodField()
    old_secret_works_until = serializers.SerializerMethodField()

    class Meta:
        model = ApiKey
        fields = [
            "id", "key_id", "name", "scopes", "reach", "allow_jwt", "secret_last4", "owner", "created_by",
            "created_at", "created_ip", "last_used_at", "last_used_ip", "old_secret_works_until",
        ]
        read_only_fields = fields

    def get_scopes(self, key) -> list[str]:
        return key.scope_list

    def get_owner(self, key) -> str | None:
        return key.membership.user.email if key.membership_id else None

    def get_created_by(self, key) -> str | None:
        return key.created_by.email if key.created_by_id else None

    def get_old_secret_works_until(self, key) -> datetime.datetime | None:
        until = key.previous_secret_expires_at
        return until if until and until > timezone.now() else None


class NewApiKeySerializer(ApiKeySerializer):
    secret = serializers.CharField(read_only=True, help_text="The secret. Shown once, in this response only.")

    class Meta(ApiKeySerializer.Meta):
        fields = ApiKeySerializer.Meta.fields + ["secret"]
        read_only_fields = fields


class ApiKeyCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=services.NAME_MAX_LENGTH)
    scopes = serializers.ListField(child=serializers.CharField(), allow_empty=False)
    reach = serializers.ChoiceField(choices=["app", "account"], default="app")
    allow_jwt = serializers.BooleanField(default=True, help_text="Keep the secret sealed to verify JWTs signed with it.")
    owner = serializers.EmailField(required=False, allow_null=True,
                                   help_text="A service account to act as (admins only); default: the organization.")


class ApiKeyViewSet(PersonalTokenViewSet):
    """API keys: a public key id and a secret (Basic auth, or JWTs signed with the secret)."""

    serializer_class = ApiKeySerializer
    required_scopes = {
        "list": ["read.api_keys"],
        "retrieve": ["read.api_keys"],
        "create": ["create.api_keys"],
        "partial_update": ["update.api_keys"],
        "rotate": ["update.api_keys"],
        "destroy": ["delete.api_keys"],
    }

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ApiKey.objects.none()
        principal = self.request.auth
        keys = (
            ApiKey.objects.live()
            .filter(organization_id=principal.organization_id)
            .select_related("membership__user", "created_by", "organization")
        )
        org_wide = self.action != "list" or self.request.query_params.get("scope") == "org"
        if principal.role == "admin" and org_wide:
            return keys
        return keys.filter(created_by_id=principal.user_id)

    def _owner(self, email, organization_id):
        owner = Membership.objects.select_related("user", "organization").filter(
            organization_id=organization_id, user__email__iexact=email
        ).first()
        if owner is None:
            raise Refused(
                "owner_not_found", "No such service account in this organization.", "owner")
        return owner

    def _secret_response(self, issued):
        payload = NewApiKeySerializer(issued.key).data
        payload["secret"] = api_keys.reveal_secret(issued, by=self.request.user, ip=client_ip(self.request))
        return Response(payload, status=status.HTTP_201_CREATED, headers={"Cache-Control": "no-store"})

    @extend_schema(request=ApiKeyCreateSerializer, responses={201: NewApiKeySerializer})
    def create(self, request):
        body = ApiKeyCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        issuer = self._issuer()
        owner = self._owner(data["owner"], issuer.organization_id) if data.get("owner") else None
        issued = api_keys.create_api_key(
            issuer=issuer, name=data["name"], scopes=data["scopes"], reach=data["reach"], owner=owner,
            allow_jwt=data["allow_jwt"], ip=client_ip(request), bound_by=request.auth.scopes,
        )
        return self._secret_response(issued)

    @extend_schema(request=TokenRenameSerializer, responses=ApiKeySerializer)
    def partial_update(self, request, pk=None):
        key = self.get_object()
        fixed = sorted(set(request.data) - {"name"})
        if fixed:
            raise ValidationError({
                "code": "immutable_field",
                "detail": "Only the name of an API key can change; create a new key for other scopes or reach.",
                "errors": {field: ["This field cannot be changed."] for field in fixed},
            })
        body = TokenRenameSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        api_keys.rename_api_key(key=key, name=body.validated_data["name"], by=request.user, ip=client_ip(request))
        return Response(ApiKeySerializer(key).data)

    @extend_schema(request=TokenRotateSerializer, responses={201: NewApiKeySerializer})
    @action(detail=True, methods=["post"])
    def rotate(self, request, pk=None):
        key = self.get_object()
        body = TokenRotateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        issued = api_keys.rotate_api_key(key=key, grace=body.validated_data["grace_period"], by=request.user,
                                         ip=client_ip(request))
        return self._secret_response(issued)

    def perform_destroy(self, key):
        api_keys.revoke_api_key(key=key, by=self.request.user, ip=client_ip(self.request))
