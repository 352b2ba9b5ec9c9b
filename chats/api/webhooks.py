"""Webhooks; the signing secret is in the 201 of create and regenerate-secret, nowhere else."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.http import client_ip
from accounts.models import Organization
from chats import deliveries as outbox
from chats import services
from chats.models import EVENT_CATEGORIES, Webhook, WebhookDelivery
from tokens import audit

from .base import ReachViewSet, crud_scopes


class WebhookSerializer(serializers.ModelSerializer):
    event_categories = serializers.ListField(
        child=serializers.ChoiceField(choices=list(EVENT_CATEGORIES)), allow_empty=False
    )

    class Meta:
        model = Webhook
        fields = ["id", "url", "event_categories", "active", "secret_last4", "created_at"]
        read_only_fields = ["id", "secret_last4", "created_at"]


class NewWebhookSerializer(WebhookSerializer):
    secret = serializers.CharField(
        read_only=True, help_text="The signing secret. Shown once, here only."
    )

    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "secret"]


class WebhookDeliverySerializer(serializers.ModelSerializer):
    """One event for one webhook: how its attempts went (never the signing secret)."""

    event_id = serializers.UUIDField(source="event.public_id", read_only=True)
    event_type = serializers.CharField(source="event.type", read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event_id",
            "event_type",
            "status",
            "attempts",
            "response_status",
            "response_ms",
            "last_error",
            "last_attempt_at",
            "next_attempt_at",
            "delivered_at",
            "created_at",
        ]
        read_only_fields = fields


class WebhookViewSet(ReachViewSet):
    """Webhooks; the signing secret is in the 201 of create and regenerate-secret, nowhere else."""

    queryset = Webhook.objects.all()
    serializer_class = WebhookSerializer
    required_scopes = {
        **crud_scopes("webhooks"),
        "regenerate_secret": ["update.webhooks"],
        "deliveries": ["read.webhooks"],
        "redeliver": ["update.webhooks"],
        "send_test": ["update.webhooks"],
    }

    def _with_secret(self, issued, code):
        data = NewWebhookSerializer(issued.credential).data
        data["secret"] = audit.reveal(issued, by=self.request.user, ip=client_ip(self.request))
        return Response(data, status=code, headers={"Cache-Control": "no-store"})

    @extend_schema(request=WebhookSerializer, responses={201: NewWebhookSerializer})
    def create(self, request):
        body = WebhookSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        issued = services.create_webhook(
            organization=Organization.objects.get(pk=request.auth.organization_id),
            by=request.user,
            ip=client_ip(request),
            **body.validated_data,
        )
        return self._with_secret(issued, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={201: NewWebhookSerializer})
    @action(detail=True, methods=["post"], url_path="regenerate-secret")
    def regenerate_secret(self, request, pk=None):
        issued = services.regenerate_webhook_secret(
            webhook=self.get_object(), by=request.user, ip=client_ip(request)
        )
        return self._with_secret(issued, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=WebhookDeliverySerializer(many=True))
    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk=None):
        """The webhook's delivery log, newest first: event, status, attempts, response time, next retry."""
        log = self.get_object().deliveries.select_related("event").order_by("-created_at", "-id")
        page = self.paginate_queryset(log)
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)

    @extend_schema(request=None, responses={202: WebhookDeliverySerializer})
    @action(detail=True, methods=["post"], url_path=r"deliveries/(?P<delivery_id>\d+)/redeliver")
    def redeliver(self, request, pk=None, delivery_id=None):
        """Send the event again now, with a fresh retry window."""
        delivery = self.get_object().deliveries.filter(pk=delivery_id).first()
        if delivery is None:
            raise NotFound()
        delivery = outbox.redeliver(delivery)
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={202: WebhookDeliverySerializer})
    @action(detail=True, methods=["post"], url_path="test")
    def send_test(self, request, pk=None):
        """Send a `webhook.test` event to this webhook now (paused or not, whatever it subscribes to)."""
        delivery = services.send_test_event(
            webhook=self.get_object(), by=request.user, ip=client_ip(request)
        )
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)

    def perform_update(self, serializer):
        services.update_webhook(
            webhook=serializer.instance,
            by=self.request.user,
            ip=client_ip(self.request),
            **serializer.validated_data,
        )

    def perform_destroy(self, webhook):
        services.delete_webhook(webhook=webhook, by=self.request.user, ip=client_ip(self.request))


class WebhookEventCategoriesView(APIView):
    """The event categories a webhook can subscribe to."""

    required_scopes = ["read.webhook_event_categories"]

    @extend_schema(
        responses=inline_serializer(
            "EventCategory",
            {"name": serializers.CharField(), "description": serializers.CharField()},
            many=True,
        )
    )
    def get(self, request):
        return Response([{"name": k, "description": v} for k, v in EVENT_CATEGORIES.items()])
