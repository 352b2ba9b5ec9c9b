"""The OAuth clients API (`/oauth-clients`) and the caller's grants to clients (`/oauth-tokens`).

Both go through tokens.oauth_clients, the same services as the portal. A client
secret appears in exactly two responses: the one that creates the client and
the one that regenerates its secret.
"""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response

from accounts.http import client_ip
from accounts.models import Membership

from . import oauth_clients
from .models import AccessToken, Application


class OAuthClientSerializer(serializers.ModelSerializer):
    redirect_uris = serializers.SerializerMethodField()
    created_by = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField(source="created", read_only=True)
    updated_at = serializers.DateTimeField(source="updated", read_only=True)

    class Meta:
        model = Application
        fields = [
            "id", "name", "client_id", "client_type", "redirect_uris", "allow_introspection", "secret_last4",
            "created_by", "created_at", "created_ip", "updated_at", "last_used_at",
        ]
        read_only_fields = fields

    def get_redirect_uris(self, application) -> list[str]:
        return application.redirect_uris.split()

    def get_created_by(self, application) -> str | None:
        return application.created_by.email if application.created_by_id else None


class NewOAuthClientSerializer(OAuthClientSerializer):
    client_secret = serializers.CharField(
        read_only=True, allow_null=True,
        help_text="The secret (confidential clients). Shown once, in this response only.",
    )

    class Meta(OAuthClientSerializer.Meta):
        fields = OAuthClientSerializer.Meta.fields + ["client_secret"]
        read_only_fields = fields


class OAuthClientCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=oauth_clients.NAME_MAX_LENGTH)
    redirect_uris = serializers.ListField(child=serializers.CharField(max_length=2000), allow_empty=False)
    client_type = serializers.ChoiceField(
        choices=Application.CLIENT_TYPES, default="confidential",
        help_text="confidential: a server that keeps a secret; public: a browser or native app (PKCE only).",
    )
    allow_introspection = serializers.BooleanField(
        default=False, help_text="May call /o/introspect/ (admins only; confidential clients)."
    )


class OAuthClientUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=oauth_clients.NAME_MAX_LENGTH, required=False)
    redirect_uris = serializers.ListField(
        child=serializers.CharField(max_length=2000), allow_empty=False, required=False
    )
    allow_introspection = serializers.BooleanField(required=False, help_text="Admins only.")


UPDATABLE = {"name", "redirect_uris", "allow_introspection"}


def _membership(request):
    return Membership.objects.select_related("organization", "user").get(pk=request.auth.membership_id)


class OAuthClientViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """OAuth clients. Developers manage their own; admins every client of the organization."""

    serializer_class = OAuthClientSerializer
    required_scopes = {
        "list": ["read.oauth_clients"],
        "retrieve": ["read.oauth_clients"],
        "create": ["create.oauth_clients"],
        "partial_update": ["update.oauth_clients"],
        "regenerate_secret": ["update.oauth_clients"],
        "destroy": ["delete.oauth_clients"],
    }

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular inspecting, no caller
            return Application.objects.none()
        principal = self.request.auth
        clients = Application.objects.filter(organization_id=principal.organization_id).select_related(
            "created_by"
        ).order_by("-created", "-id")
        org_wide = self.action != "list" or self.request.query_params.get("scope") == "org"
        if principal.role == "admin" and org_wide:
            return clients
        return clients.filter(created_by_id=principal.user_id)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "scope", str, enum=["org"], description="`org`: every client of the organization (admins only)."
            )
        ]
    )
    def list(self, request, *args, **kwargs):
        if request.query_params.get("scope") == "org" and request.auth.role != "admin":
            raise PermissionDenied("Only admins may list every OAuth client of the organization.")
        return super().list(request, *args, **kwargs)

    def _secret_response(self, issued, status_code):
        payload = NewOAuthClientSerializer(issued.application).data
        payload["client_secret"] = None
        if issued.secret is not None:
            payload["client_secret"] = oauth_clients.reveal_secret(
                issued, by=self.request.user, ip=client_ip(self.request)
            )
        return Response(payload, status=status_code, headers={"Cache-Control": "no-store"})

    @extend_schema(request=OAuthClientCreateSerializer, responses={201: NewOAuthClientSerializer})
    def create(self, request):
        body = OAuthClientCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        issued = oauth_clients.create_client(
            membership=_membership(request), name=data["name"], redirect_uris=data["redirect_uris"],
            client_type=data["client_type"], allow_introspection=data["allow_introspection"],
            ip=client_ip(request),
        )
        return self._secret_response(issued, status.HTTP_201_CREATED)

    @extend_schema(request=OAuthClientUpdateSerializer, responses=OAuthClientSerializer)
    def partial_update(self, request, pk=None):
        application = self.get_object()
        fixed = sorted(set(request.data) - UPDATABLE)
        if fixed:
            raise ValidationError({
                "code": "immutable_field",
                "detail": "Only the name, the redirect URIs and introspection of a client can change; "
                "its id and type are fixed. Register a new client instead.",
                "errors": {field: ["This field cannot be changed."] for field in fixed},
            })
        body = OAuthClientUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        oauth_clients.update_client(
            application=application, by=request.user, membership=_membership(request),
            name=data.get("name"), redirect_uris=data.get("redirect_uris"),
            allow_introspection=data.get("allow_introspection"), ip=client_ip(request),
        )
        return Response(OAuthClientSerializer(application).data)

    @extend_schema(request=None, responses={200: NewOAuthClientSerializer})
    @action(detail=True, methods=["post"], url_path="regenerate-secret")
    def regenerate_secret(self, request, pk=None):
        """A new client secret, shown once; the old one is refused at once."""
        application = self.get_object()
        issued = oauth_clients.regenerate_secret(application=application, by=request.user,
                                                 ip=client_ip(request))
        return self._secret_response(issued, status.HTTP_200_OK)

    def perform_destroy(self, application):
        oauth_clients.delete_client(application=application, by=self.request.user, ip=client_ip(self.request))


class OAuthTokenSerializer(serializers.ModelSerializer):
    client = serializers.CharField(source="application.name", read_only=True)
    client_id = serializers.CharField(source="application.client_id", read_only=True)
    scopes = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField(source="created", read_only=True)
    expires_at = serializers.DateTimeField(source="expires", read_only=True)

    class Meta:
        model = AccessToken
        fields = ["id", "client", "client_id", "scopes", "last4", "created_at", "created_ip", "expires_at",
                  "last_used_at", "last_used_ip"]
        read_only_fields = fields

    def get_scopes(self, token) -> list[str]:
        return token.scope_list


class OAuthTokenViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
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
        return oauth_clients.live_grants(organization_id=principal.organization_id, user_id=principal.user_id)

    def destroy(self, request, pk=None):
        principal = request.auth
        grants = oauth_clients.live_grants(organization_id=principal.organization_id)
        if principal.role != "admin":
            grants = grants.filter(user_id=principal.user_id)
        # An admin finds any grant of the organization, to be told why not rather than 404.
        token = get_object_or_404(grants.select_related("organization"), pk=pk)
        oauth_clients.revoke_grant(token=token, by=request.user, ip=client_ip(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
