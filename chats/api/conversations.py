"""Conversations, their attributes and their messages."""

from django.db import IntegrityError, transaction
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from chats import reach, services
from chats.models import Contact, Conversation, ConversationAttribute, Message
from tokens.permissions import InsufficientScope

from .base import ReachViewSet, crud_scopes


class ConversationSerializer(serializers.ModelSerializer):
    organization_id = serializers.CharField(source="organization.public_id", read_only=True)
    contact_id = serializers.SlugRelatedField(
        source="contact",
        slug_field="external_id",
        queryset=Contact.objects.none(),
        required=False,
        allow_null=True,
        help_text="The contact's external id.",
    )
    attributes = serializers.SerializerMethodField()

    class Meta:
        model = Conversation
        fields = [
            "id",
            "organization_id",
            "contact_id",
            "subject",
            "status",
            "attributes",
            "created_at",
        ]
        read_only_fields = ["id", "organization_id", "attributes", "created_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        principal = getattr(request, "auth", None) if request else None
        if principal is not None:
            self.fields["contact_id"].queryset = self._contacts_in_reach(principal)

    def _contacts_in_reach(self, principal):
        """The contacts a body may name: of the conversation's own organization, and for a
        one-contact credential only that contact; any other answers like a nonexistent one."""
        organization_id = (
            self.instance.organization_id
            if isinstance(self.instance, Conversation)
            else principal.organization_id
        )
        contacts = Contact.objects.filter(organization_id=organization_id)
        limit = reach.contact_filter(principal)
        return contacts if limit is None else contacts.filter(limit)

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
                ConversationAttribute.objects.create(
                    conversation=conversation, **body.validated_data
                )
        except IntegrityError:
            raise ValidationError(
                {
                    "code": "attribute_exists",
                    "detail": "This attribute exists already; update it with PATCH.",
                }
            ) from None
        return Response(self.get_serializer(self.get_object()).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=inline_serializer(
            "AttributeValue", {"value": serializers.CharField(max_length=500)}
        ),
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
        write_only=True,
        required=False,
        default=False,
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
        contact = (
            reach.own_contact(principal) if reach.contact_filter(principal) is not None else None
        )
        message = services.post_message(
            conversation=conversation,
            text=body.validated_data["text"],
            user=request.user,
            contact=contact,
            as_bot=as_bot,
        )
        return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)
