"""The API shape every credential kind shares: list (`?scope=org` for admins), fetch, a
PATCH that changes only what may change, revoke, and the one response that carries a secret."""

from django.db.models import Model
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from accounts.errors import Refused
from accounts.http import client_ip
from accounts.models import Membership

from . import audit
from .rules import GRACE_PERIODS, NAME_MAX_LENGTH

ORG_WIDE = OpenApiParameter(
    "scope", str, enum=["org"], description="`org`: every one of the organization (admins only)."
)


def scopes_by_action(resource, *, also_updating=()):
    """The `required_scopes` of a credential viewset: read, create, update (PATCH and the actions
    named in `also_updating`, e.g. rotate) and delete of `resource`."""
    return {
        "list": [f"read.{resource}"],
        "retrieve": [f"read.{resource}"],
        "create": [f"create.{resource}"],
        "partial_update": [f"update.{resource}"],
        **{name: [f"update.{resource}"] for name in also_updating},
        "destroy": [f"delete.{resource}"],
        "usage": [f"read.{resource}"],
    }


class CredentialViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """A kind's credentials, reached only through the caller's organization.

    A kind sets `model`, `noun` (for messages) and `updatable` (the fields PATCH may change,
    name only by default), and implements `visible_to(principal, org_wide=...)` and, for the
    name-only PATCH, `rename(credential, name=, by=, ip=)` calling its service.
    """

    model: type[Model]
    noun = "credential"
    updatable = frozenset({"name"})
    immutable_hint = "Create a new one (and revoke this one) instead."

    def visible_to(self, principal, *, org_wide):
        raise NotImplementedError

    def rename(self, credential, *, name, by, ip):
        raise NotImplementedError

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular inspecting, no caller
            return self.model.objects.none()
        # Fetching one by id reaches the whole organization for admins; listing only with ?scope=org.
        org_wide = self.action != "list" or self.request.query_params.get("scope") == "org"
        return self.visible_to(self.request.auth, org_wide=org_wide)

    @extend_schema(parameters=[ORG_WIDE])
    def list(self, request, *args, **kwargs):
        if request.query_params.get("scope") == "org" and request.auth.role != "admin":
            raise PermissionDenied(f"Only admins may list every {self.noun} of the organization.")
        return super().list(request, *args, **kwargs)

    def issuer(self):
        """The caller's membership, for a service that issues a credential."""
        return Membership.objects.select_related("organization", "user").get(
            pk=self.request.auth.membership_id
        )

    def owner_named(self, email):
        """The member of the caller's organization a body names by email (the service checks that
        it is a service account); nobody by that email here, or only elsewhere, is `owner_not_found`."""
        owner = (
            Membership.objects.select_related("user", "organization")
            .filter(organization_id=self.request.auth.organization_id, user__email__iexact=email)
            .first()
        )
        if owner is None:
            raise Refused(
                "owner_not_found", "No such service account in this organization.", "owner"
            )
        return owner

    def changes(self, request):
        """The PATCH body, refused whole when it touches a field that is fixed at creation."""
        if not isinstance(request.data, dict):
            raise ValidationError({"code": "invalid", "detail": "The body must be a JSON object."})
        fixed = sorted(set(request.data) - self.updatable)
        if fixed:
            allowed = ", ".join(sorted(self.updatable))
            raise ValidationError(
                {
                    "code": "immutable_field",
                    "detail": f"Only these fields of this {self.noun} can change: {allowed}. {self.immutable_hint}",
                    "errors": {field: ["This field cannot be changed."] for field in fixed},
                }
            )
        return request.data

    def partial_update(self, request, pk=None):
        """Rename: the one change a credential takes after creation."""
        credential = self.get_object()
        body = RenameSerializer(data=self.changes(request))
        body.is_valid(raise_exception=True)
        self.rename(
            credential, name=body.validated_data["name"], by=request.user, ip=client_ip(request)
        )
        return Response(self.get_serializer(credential).data)

    def secret_response(self, issued, payload, field, status_code=status.HTTP_201_CREATED):
        """The one response that carries a secret: revealed (and audited as shown) here, never cached.
        A credential issued without one (a public OAuth client) answers `null` in its place."""
        payload[field] = None
        if issued.secret is not None:
            payload[field] = audit.reveal(issued, by=self.request.user, ip=client_ip(self.request))
        return Response(payload, status=status_code, headers={"Cache-Control": "no-store"})


# What every kind's serializer reads alike: who created a credential, and its scopes (a kind
# that shows them declares `scopes = serializers.SerializerMethodField()`). A comment, not a
# docstring: drf-spectacular would print a docstring in every subclass's schema.
class CredentialSerializer(serializers.ModelSerializer):
    created_by = serializers.SerializerMethodField()

    def get_scopes(self, credential) -> list[str]:
        return credential.scope_list

    def get_created_by(self, credential) -> str | None:
        return credential.created_by.email if credential.created_by_id else None


@extend_schema_serializer(component_name="TokenRename")
class RenameSerializer(serializers.Serializer):
    """The one body PATCH takes: a new name."""

    name = serializers.CharField(max_length=NAME_MAX_LENGTH)


@extend_schema_serializer(component_name="TokenRotate")
class RotateSerializer(serializers.Serializer):
    """How long the old secret keeps working after a rotation."""

    grace_period = serializers.ChoiceField(choices=list(GRACE_PERIODS), default="none")


class RotatableMixin:
    """`POST …/{id}/rotate`: a new secret, the old one working for the grace period picked.
    The kind sets `new_serializer_class` and `secret_field` and implements
    `rotate_with(credential, grace=, by=, ip=)` calling its service."""

    new_serializer_class: type[serializers.Serializer]
    secret_field = "secret"

    def rotate_with(self, credential, *, grace, by, ip):
        raise NotImplementedError

    def end_overlap_with(self, credential, *, by, ip):
        raise NotImplementedError

    @action(detail=True, methods=["post"], url_path="end-overlap")
    def end_overlap(self, request, pk=None):
        """End a rotation's overlap now: the previous secret stops working, the current one stays."""
        credential = self.get_object()
        self.end_overlap_with(credential, by=request.user, ip=client_ip(request))
        return Response(self.get_serializer(self.get_object()).data)

    @action(detail=True, methods=["post"])
    def rotate(self, request, pk=None):
        credential = self.get_object()
        body = RotateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        issued = self.rotate_with(
            credential,
            grace=body.validated_data["grace_period"],
            by=request.user,
            ip=client_ip(request),
        )
        payload = self.new_serializer_class(issued.credential).data
        return self.secret_response(issued, payload, self.secret_field)
