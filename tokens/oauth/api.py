"""The OAuth clients API (`/oauth-clients`) and the caller's grants to clients (`/oauth-tokens`).

Both go through tokens.oauth.services, the same services as the portal, and the
same queries (`Application.objects.visible_to`, `AccessToken.objects.oauth_grants`).
A client secret appears in exactly two responses: the one that creates the
client and the one that regenerates its secret.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response

from accounts.http import client_ip
from accounts.models import Membership, Role

from ..limits.api import LimitsMixin
from ..models import AccessToken, Application
from ..rules import NAME_MAX_LENGTH
from ..usage.api import UsageMixin
from ..viewsets import CredentialSerializer, CredentialViewSet
from . import services


class OAuthClientSerializer(CredentialSerializer):
    redirect_uris = serializers.SerializerMethodField()
    allowed_origins = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField(source="created", read_only=True)
    updated_at = serializers.DateTimeField(source="updated", read_only=True)

    class Meta:
        model = Application
        fields = [
            "id",
            "name",
            "client_id",
            "client_type",
            "redirect_uris",
            "allowed_origins",
            "allow_introspection",
            "secret_last4",
            "created_by",
            "created_at",
            "created_ip",
            "updated_at",
            "last_used_at",
        ]
        read_only_fields = fields

    def get_redirect_uris(self, application) -> list[str]:
        return application.redirect_uris.split()

    def get_allowed_origins(self, application) -> list[str]:
        return application.allowed_origins.split()


class NewOAuthClientSerializer(OAuthClientSerializer):
    client_secret = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text="The secret (confidential clients). Shown once, in this response only.",
    )

    class Meta(OAuthClientSerializer.Meta):
        fields = [*OAuthClientSerializer.Meta.fields, "client_secret"]
        read_only_fields = fields


class OAuthClientCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=NAME_MAX_LENGTH)
    redirect_uris = serializers.ListField(
        child=serializers.CharField(max_length=2000), allow_empty=False
    )
    client_type = serializers.ChoiceField(
        choices=Application.CLIENT_TYPES,
        default="confidential",
        help_text="confidential: a server that keeps a secret; public: a browser or native app (PKCE only).",
    )
    allowed_origins = serializers.ListField(
        child=serializers.CharField(max_length=300),
        required=False,
        help_text="Origins (https://host[:port]) a browser app calls /o/token/ and /o/revoke_token/ from (CORS).",
    )
    allow_introspection = serializers.BooleanField(
        default=False, help_text="May call /o/introspect/ (admins only; confidential clients)."
    )


class OAuthClientUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=NAME_MAX_LENGTH, required=False)
    redirect_uris = serializers.ListField(
        child=serializers.CharField(max_length=2000), allow_empty=False, required=False
    )
    allowed_origins = serializers.ListField(
        child=serializers.CharField(max_length=300),
        required=False,
        help_text="Origins (https://host[:port]) a browser app calls /o/token/ and /o/revoke_token/ from (CORS).",
    )
    allow_introspection = serializers.BooleanField(required=False, help_text="Admins only.")


def _membership(request):
    return Membership.objects.select_related("organization", "user").get(
        pk=request.auth.membership_id
    )


class OAuthClientViewSet(LimitsMixin, UsageMixin, CredentialViewSet):
    """OAuth clients. Developers manage their own; admins every client of the organization."""

    model = Application
    noun = "OAuth client"
    updatable = frozenset({"name", "redirect_uris", "allowed_origins", "allow_introspection"})
    immutable_hint = "Its id and type are fixed: register a new client instead."
    serializer_class = OAuthClientSerializer
    required_scopes = {
        "list": ["read.oauth_clients"],
        "retrieve": ["read.oauth_clients"],
        "create": ["create.oauth_clients"],
        "partial_update": ["update.oauth_clients"],
        "regenerate_secret": ["update.oauth_clients"],
        "destroy": ["delete.oauth_clients"],
        "usage": ["read.oauth_clients"],
    }
    usage_kind = "oauth_client"

    def granted_scopes(self, credential):
        return None  # a client's grants carry the scopes: list the ones its tokens used

    def visible_to(self, principal, *, org_wide):
        return Application.objects.visible_to(principal, org_wide=org_wide)

    def _secret_response(self, issued, status_code):
        payload = NewOAuthClientSerializer(issued.credential).data
        return self.secret_response(issued, payload, "client_secret", status_code)

    @extend_schema(request=OAuthClientCreateSerializer, responses={201: NewOAuthClientSerializer})
    def create(self, request):
        body = OAuthClientCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        issued = services.create_client(
            membership=_membership(request),
            name=data["name"],
            redirect_uris=data["redirect_uris"],
            client_type=data["client_type"],
            allow_introspection=data["allow_introspection"],
            allowed_origins=data.get("allowed_origins", ()),
            ip=client_ip(request),
        )
        return self._secret_response(issued, status.HTTP_201_CREATED)

    @extend_schema(request=OAuthClientUpdateSerializer, responses=OAuthClientSerializer)
    def partial_update(self, request, pk=None):
        application = self.get_object()
        body = OAuthClientUpdateSerializer(data=self.changes(request))
        body.is_valid(raise_exception=True)
        data = body.validated_data
        services.update_client(
            application=application,
            by=request.user,
            membership=_membership(request),
            name=data.get("name"),
            redirect_uris=data.get("redirect_uris"),
            allow_introspection=data.get("allow_introspection"),
            allowed_origins=data.get("allowed_origins"),
            ip=client_ip(request),
        )
        return Response(OAuthClientSerializer(application).data)

    @extend_schema(request=None, responses={200: NewOAuthClientSerializer})
    @action(detail=True, methods=["post"], url_path="regenerate-secret")
    def regenerate_secret(self, request, pk=None):
        """A new client secret, shown once; the old one is refused at once."""
        application = self.get_object()
        issued = services.regenerate_secret(
            application=application, by=request.user, ip=client_ip(request)
        )
        return self._secret_response(issued, status.HTTP_200_OK)

    def perform_destroy(self, application):
        services.delete_client(
            application=application, by=self.request.user, ip=client_ip(self.request)
        )


class OAuthTokenSerializer(serializers.ModelSerializer):
    client = serializers.CharField(source="application.name", read_only=True)
    client_id = serializers.CharField(source="application.client_id", read_only=True)
    scopes = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField(source="created", read_only=True)
    expires_at = serializers.DateTimeField(source="expires", read_only=True)

    class Meta:
        model = AccessToken
        fields = [
            "id",
            "client",
            "client_id",
            "scopes",
            "last4",
            "created_at",
            "created_ip",
            "expires_at",
            "last_used_at",
            "last_used_ip",
        ]
        read_only_fields = fields

    def get_scopes(self, token) -> list[str]:
        return token.scope_list


class OAuthTokenViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The OAuth tokens you granted to clients. Only you can revoke them (Zendesk Chat's rule)."""

    serializer_class = OAuthTokenSerializer
    required_scopes = {
        "list": ["read.oauth_tokens"],
        "retrieve": ["read.oauth_tokens"],
        "destroy": ["delete.oauth_tokens"],
    }

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return AccessToken.objects.none()
        principal = self.request.auth
        return AccessToken.objects.oauth_grants(
            organization_id=principal.organization_id, user_id=principal.user_id
        )

    def destroy(self, request, pk=None):
        principal = request.auth
        # An admin finds any grant of the organization, to be told why not (403) rather than 404.
        user_id = None if principal.role == Role.ADMIN else principal.user_id
        grants = AccessToken.objects.oauth_grants(
            organization_id=principal.organization_id, user_id=user_id
        )
        token = get_object_or_404(grants.select_related("organization"), pk=pk)
        services.revoke_grant(token=token, by=request.user, ip=client_ip(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


# Registered under /api/v1/ by tokens/api_urls.py: (prefix, viewset, basename).
ROUTES = [
    ("oauth-clients", OAuthClientViewSet, "oauth-client"),
    ("oauth-tokens", OAuthTokenViewSet, "oauth-token"),
]
