"""API keys over the API (`/api/v1/api-keys`): a public key id and a secret, through the same
services as the portal."""

import datetime

from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers

from accounts.http import client_ip

from ..limits.api import LimitsMixin
from ..models import ApiKey
from ..rules import NAME_MAX_LENGTH
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


class ApiKeySerializer(CredentialSerializer):
    scopes = serializers.SerializerMethodField()
    owner = serializers.SerializerMethodField()
    old_secret_works_until = serializers.SerializerMethodField()

    class Meta:
        model = ApiKey
        fields = [
            "id",
            "key_id",
            "name",
            "scopes",
            "reach",
            "allow_jwt",
            "secret_last4",
            "owner",
            "created_by",
            "created_at",
            "created_ip",
            "last_used_at",
            "last_used_ip",
            "old_secret_works_until",
        ]
        read_only_fields = fields

    def get_owner(self, key) -> str | None:
        return key.membership.user.email if key.membership_id else None

    def get_old_secret_works_until(self, key) -> datetime.datetime | None:
        until = key.previous_secret_expires_at
        return until if until and until > timezone.now() else None


class NewApiKeySerializer(ApiKeySerializer):
    secret = serializers.CharField(
        read_only=True, help_text="The secret. Shown once, in this response only."
    )

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "secret"]
        read_only_fields = fields


class ApiKeyCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=NAME_MAX_LENGTH)
    scopes = serializers.ListField(child=serializers.CharField(), allow_empty=False)
    reach = serializers.ChoiceField(choices=["app", "account"], default="app")
    allow_jwt = serializers.BooleanField(
        default=True, help_text="Keep the secret sealed to verify JWTs signed with it."
    )
    owner = serializers.EmailField(
        required=False,
        allow_null=True,
        help_text="A service account to act as (admins only); default: the organization.",
    )


@extend_schema_view(
    partial_update=extend_schema(request=RenameSerializer, responses=ApiKeySerializer),
    rotate=extend_schema(request=RotateSerializer, responses={201: NewApiKeySerializer}),
    end_overlap=extend_schema(request=None, responses=ApiKeySerializer),
)
class ApiKeyViewSet(LimitsMixin, UsageMixin, RotatableMixin, CredentialViewSet):
    """API keys: a public key id and a secret (Basic auth, or JWTs signed with the secret)."""

    model = ApiKey
    noun = "API key"
    immutable_hint = "Create a new key for other scopes or reach."
    serializer_class = ApiKeySerializer
    required_scopes = scopes_by_action("api_keys", also_updating=("rotate", "end_overlap"))
    usage_kind = "api_key"
    new_serializer_class = NewApiKeySerializer

    def visible_to(self, principal, *, org_wide):
        return ApiKey.objects.visible_to(principal, org_wide=org_wide).for_list()

    @extend_schema(request=ApiKeyCreateSerializer, responses={201: NewApiKeySerializer})
    def create(self, request):
        body = ApiKeyCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        issued = services.create_api_key(
            issuer=self.issuer(),
            name=data["name"],
            scopes=data["scopes"],
            reach=data["reach"],
            owner=self.owner_named(data["owner"]) if data.get("owner") else None,
            allow_jwt=data["allow_jwt"],
            ip=client_ip(request),
            bound_by=request.auth.scopes,
        )
        return self.secret_response(
            issued, NewApiKeySerializer(issued.credential).data, self.secret_field
        )

    def rename(self, credential, *, name, by, ip):
        services.rename_api_key(key=credential, name=name, by=by, ip=ip)

    def rotate_with(self, credential, *, grace, by, ip):
        return services.rotate_api_key(key=credential, grace=grace, by=by, ip=ip)

    def end_overlap_with(self, credential, *, by, ip):
        services.end_overlap(key=credential, by=by, ip=ip)

    def perform_destroy(self, key):
        services.revoke_api_key(key=key, by=self.request.user, ip=client_ip(self.request))


# Registered under /api/v1/ by tokens/api_urls.py: (prefix, viewset, basename).
ROUTES = [("api-keys", ApiKeyViewSet, "api-key")]
