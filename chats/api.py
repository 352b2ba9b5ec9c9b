"""The platform API: the resources credentials protect, always filtered to the caller's reach.

Every view declares `required_scopes` per action; reach (chats.reach) decides
what exists for the caller at all, so another organization's object is a 404.
"""

from django.db import IntegrityError, transaction
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Membership, Organization, OrganizationGroup, Role, User
from tokens import scopes as catalog
from tokens.permissions import InsufficientScope

from . import reach, services
from .models import (
    EVENT_CATEGORIES,
    Contact,
    Conversation,
    ConversationAttribute,
    Form,
    KnowledgeItem,
    Message,
    Service,
    Webhook,
)


def crud_scopes(resource, *, retrieve=None):
    return {
        "list": [f"read.{resource}"],
        "retrieve": [retrieve or f"read.{resource}"],
        "create": [f"create.{resource}"],
        "partial_update": [f"update.{resource}"],
        "destroy": [f"delete.{resource}"],
    }


class ReachViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """List, fetch, create, update (PATCH) and delete, inside the caller's reach."""

    org_field = "organization"
    contact_field = None  # the path to Contact for the one-contact rule; None: such callers see nothing

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset.none()
        principal = self.request.auth
        queryset = self.queryset.filter(reach.organizations(principal, self.org_field))
        return reach.limit_to_contact(queryset, principal, self.contact_field)

    def partial_update(self, request, *args, **kwargs):
        instance = self.get_object()
        serializer = self.get_serializer(instance, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        self.perform_update(serializer)
        return Response(serializer.data)

    def perform_update(self, serializer):
        serializer.save()

    def perform_create(self, serializer):
        serializer.save(organization_id=self.request.auth.organization_id)


# Organizations and groups


class OrganizationSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True)
    group = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = Organization
        fields = ["id", "name", "slug", "group", "created_at"]
        read_only_fields = ["id", "group", "created_at"]


class OrganizationViewSet(ReachViewSet):
    """Organizations in reach: this one (app) or every one of its group (account)."""

    queryset = Organization.objects.select_related("group")
    serializer_class = OrganizationSerializer
    required_scopes = crud_scopes("organizations")
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    lookup_value_regex = "org_[A-Za-z0-9]+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset.none()
        principal = self.request.auth
        if reach.contact_filter(principal) is not None:
            return self.queryset.none()
        if principal.reach == "account" and principal.group_id:
            return self.queryset.filter(group_id=principal.group_id)
        return self.queryset.filter(pk=principal.organization_id)

    def perform_create(self, serializer):
        principal = self.request.auth
        own = Organization.objects.select_related("group").get(pk=principal.organization_id)
        owns_group = own.group_id and own.group.owners.filter(pk=principal.user_id).exists()
        serializer.instance = services.create_organization(
            name=serializer.validated_data["name"], slug=serializer.validated_data["slug"],
            by=self.request.user, group=own.group if owns_group else None,
        )


class OrganizationGroupSerializer(serializers.ModelSerializer):
    organizations = serializers.SlugRelatedField(slug_field="public_id", many=True, read_only=True)

    class Meta:
        model = OrganizationGroup
        fields = ["id", "name", "slug", "organizations", "created_at"]
        read_only_fields = ["id", "organizations", "created_at"]


class OrganizationGroupViewSet(ReachViewSet):
    """The organization group of the credential's organization."""

    queryset = OrganizationGroup.objects.prefetch_related("organizations")
    serializer_class = OrganizationGroupSerializer
    required_scopes = crud_scopes("organization_groups")

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset.none()
        principal = self.request.auth
        if reach.contact_filter(principal) is not None or not principal.group_id:
            return self.queryset.none()
        return self.queryset.filter(pk=principal.group_id)

    def perform_create(self, serializer):
        serializer.instance = services.create_organization_group(
            name=serializer.validated_data["name"], slug=serializer.validated_data["slug"],
            by=self.request.user,
        )


# Users


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
    name = serializers.CharField(max_length=150, required=False, default="")
    role = serializers.ChoiceField(choices=Role.choices, default=Role.AGENT)


class UserUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=150, required=False)
    role = serializers.ChoiceField(choices=Role.choices, required=False)


class UserViewSet(ReachViewSet):
    """Members of the organizations in reach. With `read.my_orgs.users` every field, else id and name."""

    queryset = Membership.objects.select_related("user", "organization").order_by("user__email", "id")
    required_scopes = crud_scopes("users")
    optional_scopes = ["read.my_orgs.users"]  # widens the fields returned; checked in get_serializer_class
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
            return self.queryset.filter(user_id=principal.user_id, organization_id=principal.organization_id)
        return queryset

    def get_object(self):
        membership = self.get_queryset().filter(user_id=self.kwargs["id"]).first()
        if membership is None:
            raise NotFound()
        return membership

    @extend_schema(request=UserCreateSerializer, responses={201: UserFullSerializer})
    def create(self, request):
        body = UserCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        organization = Organization.objects.get(pk=request.auth.organization_id)
        membership = services.add_user(organization=organization, by_role=request.auth.role,
                                       **body.validated_data)
        return Response(UserFullSerializer(membership).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=UserUpdateSerializer, responses=UserFullSerializer)
    def partial_update(self, request, id=None):
        membership = self.get_object()
        body = UserUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        if "role" in data and Role.rank(data["role"]) > Role.rank(request.auth.role):
            raise services.PlatformError(
                "role_not_allowed", "You cannot give a role above your own.", "role")
        with transaction.atomic():
            if "name" in data:
                membership.user.name = data["name"]
                membership.user.save(update_fields=["name"])
            if "role" in data:
                membership.role = data["role"]
                membership.save(update_fields=["role"])
        return Response(UserFullSerializer(membership).data)

    def perform_destroy(self, membership):
        if membership.user_id == self.request.auth.user_id:
            raise services.PlatformError(
                "cannot_remove_self", "You cannot remove yourself; ask another admin.")
        membership.delete()  # the account stays; only its place in this organization goes


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


# Conversations, attributes, messages


class ConversationSerializer(serializers.ModelSerializer):
    organization_id = serializers.CharField(source="organization.public_id", read_only=True)
    contact_id = serializers.SlugRelatedField(
        source="contact", slug_field="external_id", queryset=Contact.objects.none(), required=False,
        allow_null=True, help_text="The contact's external id.",
    )
    attributes = serializers.SerializerMethodField()

    class Meta:
        model = Conversation
        fields = ["id", "organization_id", "contact_id", "subject", "status", "attributes", "created_at"]
        read_only_fields = ["id", "organization_id", "attributes", "created_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        principal = getattr(request, "auth", None) if request else None
        if principal is not None:
            self.fields["contact_id"].queryset = Contact.objects.filter(organization_id=principal.organization_id)

    def get_attributes(self, conversation) -> dict[str, str]:
        return {a.key: a.value for a in conversation.attributes.all()}


class AttributeSerializer(serializers.Serializer):
    key = serializers.RegexField(r"^[A-Za-z0-9_.-]{1,64}$")
    value = serializers.CharField(max_length=500, allow_blank=True)


class ConversationViewSet(ReachViewSet):
    """Conversations; guests and appUser credentials reach only their own contact's."""

    queryset = Conversation.objects.select_related("organization", "contact").prefetch_related(
        Prefetch("attributes", queryset=ConversationAttribute.objects.order_by("key"))
    )
    serializer_class = ConversationSerializer
    contact_field = "contact"
    required_scopes = {
        **crud_scopes("chats", retrieve="read.chat_details"),
        "create_attribute": ["create.chat_attributes"],
        "update_attribute": ["update.chat_attributes"],
    }

    def perform_create(self, serializer):
        principal = self.request.auth
        extra = {}
        if reach.contact_filter(principal) is not None:
            contact = reach.own_contact(principal)
            if contact is None:
                raise NotFound("No contact is tied to this credential.")
            extra["contact"] = contact
        serializer.save(organization_id=principal.organization_id, **extra)

    @extend_schema(request=AttributeSerializer, responses={201: ConversationSerializer})
    @action(detail=True, methods=["post"], url_path="attributes")
    def create_attribute(self, request, pk=None):
        conversation = self.get_object()
        body = AttributeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            with transaction.atomic():
                ConversationAttribute.objects.create(conversation=conversation, **body.validated_data)
        except IntegrityError:
            raise ValidationError({"code": "attribute_exists",
                                   "detail": "This attribute exists already; update it with PATCH."}) from None
        return Response(self.get_serializer(self.get_object()).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=inline_serializer("AttributeValue", {"value": serializers.CharField(max_length=500)}),
        responses=ConversationSerializer,
    )
    @action(detail=True, methods=["patch"], url_path=r"attributes/(?P<key>[A-Za-z0-9_.-]{1,64})")
    def update_attribute(self, request, pk=None, key=None):
        conversation = self.get_object()
        attribute = get_object_or_404(conversation.attributes, key=key)
        body = AttributeSerializer(data={"key": key, "value": request.data.get("value", "")})
        body.is_valid(raise_exception=True)
        attribute.value = body.validated_data["value"]
        attribute.save(update_fields=["value"])
        return Response(self.get_serializer(self.get_object()).data)


class MessageSerializer(serializers.ModelSerializer):
    author = serializers.SerializerMethodField()
    as_bot = serializers.BooleanField(
        write_only=True, required=False, default=False,
        help_text="Post as the organization's bot (needs `impersonate.bot`).",
    )

    class Meta:
        model = Message
        fields = ["id", "conversation", "author", "text", "as_bot", "created_at"]
        read_only_fields = ["id", "conversation", "author", "created_at"]

    def get_author(self, message) -> str | None:
        if message.author_contact_id:
            return f"contact:{message.author_contact.external_id}"
        if message.author_user_id:
            return f"user:{message.author_user_id}"
        return None


class MessageViewSet(ReachViewSet):
    """Messages of one conversation in reach."""

    queryset = Message.objects.select_related("author_contact", "conversation")
    serializer_class = MessageSerializer
    org_field = "conversation__organization"
    contact_field = "conversation__contact"
    required_scopes = crud_scopes("messages")
    optional_scopes = ["impersonate.bot"]  # needed when posting with asBot

    def get_queryset(self):
        return super().get_queryset().filter(conversation_id=self.kwargs.get("conversation_pk"))

    def _conversation(self):
        principal = self.request.auth
        conversations = Conversation.objects.select_related("organization").filter(
            reach.organizations(principal)
        )
        conversations = reach.limit_to_contact(conversations, principal, "contact")
        return get_object_or_404(conversations, pk=self.kwargs["conversation_pk"])

    def list(self, request, *args, **kwargs):
        self._conversation()  # a conversation out of reach is a 404, not an empty page
        return super().list(request, *args, **kwargs)

    def create(self, request, conversation_pk=None):
        conversation = self._conversation()
        body = MessageSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        principal = request.auth
        as_bot = body.validated_data.get("as_bot", False)
        if as_bot and "impersonate.bot" not in principal.scopes:
            raise InsufficientScope(["impersonate.bot"])
        contact = reach.own_contact(principal) if reach.contact_filter(principal) is not None else None
        message = services.post_message(conversation=conversation, text=body.validated_data["text"],
                                        user=request.user, contact=contact, as_bot=as_bot)
        return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)


# Contacts, knowledge items, forms, services


class ContactSerializer(serializers.ModelSerializer):
    class Meta:
        model = Contact
        fields = ["id", "external_id", "name", "email", "created_at"]
        read_only_fields = ["id", "created_at"]

    def validate_external_id(self, value):
        principal = self.context["request"].auth
        taken = Contact.objects.filter(organization_id=principal.organization_id, external_id=value)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise serializers.ValidationError("A contact with this external id exists already.")
        return value


class ContactViewSet(ReachViewSet):
    queryset = Contact.objects.all()
    serializer_class = ContactSerializer
    contact_field = "pk"
    required_scopes = crud_scopes("contacts", retrieve="read.contact_details")


class KnowledgeItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = KnowledgeItem
        fields = ["id", "title", "body", "created_at"]
        read_only_fields = ["id", "created_at"]


class KnowledgeItemViewSet(ReachViewSet):
    queryset = KnowledgeItem.objects.all()
    serializer_class = KnowledgeItemSerializer
    required_scopes = crud_scopes("knowledge_items")


class FormSerializer(serializers.ModelSerializer):
    fields = serializers.ListField(child=serializers.DictField(), required=False)

    class Meta:
        model = Form
        fields = ["id", "name", "fields", "created_at"]
        read_only_fields = ["id", "created_at"]


class FormViewSet(ReachViewSet):
    queryset = Form.objects.all()
    serializer_class = FormSerializer
    required_scopes = crud_scopes("forms", retrieve="read.form_details")


class ServiceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Service
        fields = ["id", "name", "description", "created_at"]
        read_only_fields = ["id", "created_at"]


class ServiceViewSet(ReachViewSet):
    queryset = Service.objects.all()
    serializer_class = ServiceSerializer
    required_scopes = crud_scopes("services")


# Webhooks


class WebhookSerializer(serializers.ModelSerializer):
    event_categories = serializers.ListField(
        child=serializers.ChoiceField(choices=list(EVENT_CATEGORIES)), allow_empty=False
    )

    class Meta:
        model = Webhook
        fields = ["id", "url", "event_categories", "secret_last4", "created_at"]
        read_only_fields = ["id", "secret_last4", "created_at"]


class NewWebhookSerializer(WebhookSerializer):
    secret = serializers.CharField(read_only=True, help_text="The signing secret. Shown once, here only.")

    class Meta(WebhookSerializer.Meta):
        fields = WebhookSerializer.Meta.fields + ["secret"]


class WebhookViewSet(ReachViewSet):
    """Webhooks; the signing secret is in the 201 of create and regenerate-secret, nowhere else."""

    queryset = Webhook.objects.all()
    serializer_class = WebhookSerializer
    required_scopes = {**crud_scopes("webhooks"), "regenerate_secret": ["update.webhooks"]}

    def _with_secret(self, new, code):
        data = NewWebhookSerializer(new.webhook).data
        data["secret"] = new.secret
        return Response(data, status=code, headers={"Cache-Control": "no-store"})

    @extend_schema(request=WebhookSerializer, responses={201: NewWebhookSerializer})
    def create(self, request):
        body = WebhookSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        new = services.create_webhook(organization=Organization.objects.get(pk=request.auth.organization_id),
                                      by=request.user, **body.validated_data)
        return self._with_secret(new, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={201: NewWebhookSerializer})
    @action(detail=True, methods=["post"], url_path="regenerate-secret")
    def regenerate_secret(self, request, pk=None):
        new = services.regenerate_webhook_secret(webhook=self.get_object())
        return self._with_secret(new, status.HTTP_201_CREATED)


class WebhookEventCategoriesView(APIView):
    """The event categories a webhook can subscribe to."""

    required_scopes = ["read.webhook_event_categories"]

    @extend_schema(responses=inline_serializer(
        "EventCategory", {"name": serializers.CharField(), "description": serializers.CharField()}, many=True))
    def get(self, request):
        return Response([{"name": k, "description": v} for k, v in EVENT_CATEGORIES.items()])


# Me


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
            "reach": principal.reach,
            "scopes": catalog.ordered(principal.scopes),
            "memberships": memberships,
        }
        return Response(MeSerializer(data).data)


