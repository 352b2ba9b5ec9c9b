"""The caller (`/me`, `/users/self`) and the members of the organizations in reach (`/users`)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services as accounts
from accounts.http import client_ip
from accounts.models import Membership, Organization, Role, User
from chats import reach
from tokens import scopes as catalog

from .base import ReachViewSet, crud_scopes


class UserLimitedSerializer(serializers.Serializer):
    """`read.users`: who someone is, no more."""

    id = serializers.IntegerField(source="user_id", read_only=True)
    name = serializers.CharField(source="user.display_name", read_only=True)


class UserFullSerializer(UserLimitedSerializer):
    """`read.my_orgs.users`: every field."""

    email = serializers.EmailField(source="user.email", read_only=True)
    organization_id = serializers.CharField(source="organization.public_id", read_only=True)
    role = serializers.CharField(read_only=True)
    developer_access = serializers.BooleanField(source="has_developer_access", read_only=True)
    is_service_account = serializers.BooleanField(source="user.is_service_account", read_only=True)


class UserCreateSerializer(serializers.Serializer):
    email = serializers.EmailField()
    # allow_blank: the default "" must be a value a client may send back (openapi-spec-validator
    # refuses a default that breaks its own minLength).
    name = serializers.CharField(
        max_length=150,
        required=False,
        default="",
        allow_blank=True,
        help_text="Used only when the email has no account yet.",
    )
    role = serializers.ChoiceField(choices=Role.choices, default=Role.AGENT)
    developer_access = serializers.BooleanField(required=False, default=False)


class InvitationSerializer(serializers.Serializer):
    """The same answer whether or not the email already has an account."""

    status = serializers.SerializerMethodField()
    email = serializers.EmailField(read_only=True)
    organization_id = serializers.CharField(source="organization.public_id", read_only=True)
    role = serializers.CharField(read_only=True)
    developer_access = serializers.BooleanField(read_only=True)

    def get_status(self, invitation) -> str:
        return "invited"


class UserUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=150, required=False)
    role = serializers.ChoiceField(choices=Role.choices, required=False)
    developer_access = serializers.BooleanField(required=False, help_text="Admins always have it.")


class UserViewSet(ReachViewSet):
    """Members of the organizations in reach. With `read.my_orgs.users` every field, else id and name."""

    queryset = Membership.objects.select_related("user", "organization").order_by(
        "user__email", "id"
    )
    required_scopes = crud_scopes("users")
    optional_scopes = [
        "read.my_orgs.users"
    ]  # widens the fields returned; checked in get_serializer_class
    lookup_field = "user_id"
    lookup_url_kwarg = "id"
    lookup_value_regex = r"\d+"

    def get_serializer_class(self):
        if self.action == "create":
            return UserCreateSerializer
        if self.action == "partial_update":
            return UserUpdateSerializer
        principal = getattr(self.request, "auth", None)
        if principal is not None and "read.my_orgs.users" in principal.scopes:
            return UserFullSerializer
        return UserLimitedSerializer

    def get_queryset(self):
        queryset = super().get_queryset()
        if getattr(self, "swagger_fake_view", False):
            return queryset
        principal = self.request.auth
        if reach.contact_filter(principal) is not None:  # guests and appUser credentials: only self
            return self.queryset.filter(
                user_id=principal.user_id, organization_id=principal.organization_id
            )
        return queryset

    def get_object(self):
        membership = self.get_queryset().filter(user_id=self.kwargs["id"]).first()
        if membership is None:
            raise NotFound()
        return membership

    @extend_schema(request=UserCreateSerializer, responses={202: InvitationSerializer})
    def create(self, request):
        """Invite a person: they join when they accept in the portal. The answer never tells
        whether the email already has an account, nor anything about that account."""
        body = UserCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        organization = Organization.objects.get(pk=request.auth.organization_id)
        invitation = accounts.invite_member(
            organization=organization,
            by=request.user,
            by_role=request.auth.role,
            ip=client_ip(request),
            **body.validated_data,
        )
        return Response(InvitationSerializer(invitation).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=UserUpdateSerializer, responses=UserFullSerializer)
    def partial_update(self, request, id=None):
        membership = self.get_object()
        body = UserUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        membership = accounts.update_member(
            membership=membership,
            by=request.user,
            by_role=request.auth.role,
            ip=client_ip(request),
            **body.validated_data,
        )
        return Response(UserFullSerializer(membership).data)

    def perform_destroy(self, membership):
        accounts.remove_member(
            membership=membership, by=self.request.user, ip=client_ip(self.request)
        )


class UserSelfSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "name"]
        read_only_fields = ["id", "email"]


class UserSelfView(APIView):
    """The caller's own user: every role may read and update it (web1on1's "self")."""

    required_scopes = {"get": ["read.me"], "patch": ["update.me"]}

    @extend_schema(responses=UserSelfSerializer)
    def get(self, request):
        return Response(UserSelfSerializer(User.objects.get(pk=request.auth.user_id)).data)

    @extend_schema(request=UserSelfSerializer, responses=UserSelfSerializer)
    def patch(self, request):
        user = User.objects.get(pk=request.auth.user_id)
        body = UserSelfSerializer(user, data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        body.save()
        return Response(body.data)


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
    reach = serializers.CharField()
    scopes = serializers.ListField(child=serializers.CharField())
    memberships = MembershipSerializer(many=True)


class MeView(APIView):
    """The caller: their account, the organization this credential acts in, and its effective scopes."""

    required_scopes = ["read.me"]

    @extend_schema(responses=MeSerializer, operation_id="me_retrieve")
    def get(self, request):
        principal = request.auth
        memberships = list(
            Membership.objects.filter(user_id=principal.user_id).select_related(
                "organization", "user"
            )
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
            "reach": principal.reach,
            "scopes": catalog.ordered(principal.scopes),
            "memberships": memberships,
        }
        return Response(MeSerializer(data).data)
