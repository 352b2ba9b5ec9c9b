"""The offboarding review in the API: list what waits, and decide (revoke, keep, re-issue)."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.errors import Refused
from accounts.http import client_ip
from accounts.models import Membership

from .. import audit
from ..models import ReviewItem
from . import services


class ReviewItemSerializer(serializers.ModelSerializer):
    can_reissue = serializers.SerializerMethodField()

    class Meta:
        model = ReviewItem
        fields = [
            "id",
            "member_email",
            "reason",
            "detail",
            "credential_kind",
            "credential_id",
            "credential_name",
            "credential_last4",
            "created_at",
            "decision",
            "decided_at",
            "replacement_id",
            "can_reissue",
        ]
        read_only_fields = fields

    def get_can_reissue(self, item) -> bool:
        return services.can_reissue(item)


class ReissueSerializer(serializers.Serializer):
    owner = serializers.IntegerField(
        min_value=1,
        max_value=2**63 - 1,
        help_text="The user id of a service account of this organization.",
    )


class ReissuedSerializer(serializers.Serializer):
    item = ReviewItemSerializer()
    credential_id = serializers.IntegerField()
    secret = serializers.CharField(help_text="The new credential's secret. Shown once, here only.")


class ReviewItemViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Credentials of members who left or lost access, waiting for an admin's decision."""

    serializer_class = ReviewItemSerializer
    required_scopes = {
        "list": ["read.credential_reviews"],
        "revoke": ["update.credential_reviews"],
        "keep": ["update.credential_reviews"],
        "reissue": ["update.credential_reviews"],
    }

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ReviewItem.objects.none()
        items = ReviewItem.objects.filter(organization_id=self.request.auth.organization_id)
        if self.action == "list" and self.request.query_params.get("status") != "all":
            items = items.open()
        return items.order_by("-created_at", "-id")

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "status",
                enum=["open", "all"],
                required=False,
                description="`open` (the default) or `all`, decided ones too",
            )
        ]
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def _member(self):
        return Membership.objects.select_related("user", "organization").get(
            pk=self.request.auth.membership_id
        )

    @extend_schema(request=None, responses=ReviewItemSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        item = services.revoke(item=self.get_object(), by=request.user, ip=client_ip(request))
        return Response(ReviewItemSerializer(item).data)

    @extend_schema(request=None, responses=ReviewItemSerializer)
    @action(detail=True, methods=["post"])
    def keep(self, request, pk=None):
        item = services.keep(item=self.get_object(), by=request.user)
        return Response(ReviewItemSerializer(item).data)

    @extend_schema(request=ReissueSerializer, responses={201: ReissuedSerializer})
    @action(detail=True, methods=["post"])
    def reissue(self, request, pk=None):
        item = self.get_object()
        body = ReissueSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        issuer = self._member()
        owner = (
            services.service_accounts(issuer.organization)
            .filter(user_id=body.validated_data["owner"])
            .first()
        )
        if owner is None:
            raise Refused(
                "owner_not_service_account", "Pick a service account of this organization.", "owner"
            )
        issued = services.reissue(item=item, issuer=issuer, owner=owner, ip=client_ip(request))
        item.refresh_from_db()
        data = {
            "item": ReviewItemSerializer(item).data,
            "credential_id": issued.credential.pk,
            "secret": audit.reveal(issued, by=request.user, ip=client_ip(request)),
        }
        return Response(data, status=status.HTTP_201_CREATED, headers={"Cache-Control": "no-store"})
