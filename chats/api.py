"""The platform API: who is calling, and (later) the resources credentials protect."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Membership
from tokens import scopes as catalog


class MembershipSerializer(serializers.Serializer):
    organization_id = serializers.CharField(source="organization.public_id")
    organization_name = serializers.CharField(source="organization.name")
    role = serializers.CharField()
    developer_access = serializers.BooleanField(source="has_developer_access")


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    name = serializers.CharField()
    is_service_account = serializers.BooleanField()
    organization_id = serializers.CharField()
    role = serializers.CharField()
    credential = serializers.CharField()
    scopes = serializers.ListField(child=serializers.CharField())
    memberships = MembershipSerializer(many=True)


class MeView(APIView):
    """The caller: their account, the organization this credential acts in, and its effective scopes."""

    required_scopes = ["read.me"]

    @extend_schema(responses=MeSerializer, operation_id="me_retrieve")
    def get(self, request):
        principal = request.auth
        memberships = list(
            Membership.objects.filter(user_id=principal.user_id).select_related("organization", "user")
        )
        user = memberships[0].user if memberships else request.user
        current = next((m for m in memberships if m.pk == principal.membership_id), None)
        data = {
            "id": user.pk,
            "email": user.email,
            "name": user.name,
            "is_service_account": user.is_service_account,
            "organization_id": current.organization.public_id if current else None,
            "role": principal.role,
            "credential": principal.kind,
            "scopes": catalog.ordered(principal.scopes),
            "memberships": memberships,
        }
        return Response(MeSerializer(data).data)


