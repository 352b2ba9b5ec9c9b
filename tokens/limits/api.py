"""Limits over the API: `GET/PUT …/{id}/limits` on every credential kind (reading takes what
reading the credential takes; setting, the update scope and the admin role) and the
organization's default at `GET/PUT /api/v1/limits`."""

from django.db import transaction
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.errors import Refused
from accounts.http import client_ip
from accounts.models import Organization, Role

from . import rules, services


class RateLimitSerializer(serializers.Serializer):
    name = serializers.RegexField(r"^[a-z0-9][a-z0-9_.-]{0,39}$", default="default")
    limit = serializers.IntegerField(min_value=1, max_value=rules.MAX_LIMIT)
    window_seconds = serializers.IntegerField(min_value=1, max_value=rules.MAX_WINDOW_SECONDS)
    cost = serializers.IntegerField(
        min_value=1, max_value=rules.MAX_LIMIT, default=1, help_text="Counted per request."
    )


class RefillSerializer(serializers.Serializer):
    amount = serializers.IntegerField(min_value=1, max_value=rules.MAX_CREDITS)
    interval = serializers.ChoiceField(choices=list(rules.INTERVALS))
    day_of_month = serializers.IntegerField(
        min_value=1, max_value=31, required=False, allow_null=True, help_text="Monthly only."
    )


class CreditsSerializer(serializers.Serializer):
    remaining = serializers.IntegerField(
        min_value=0,
        max_value=rules.MAX_CREDITS,
        help_text="Requests left; saving sets the balance (an admin adds credits this way).",
    )
    refill = RefillSerializer(
        required=False, allow_null=True, help_text="Replaces the balance at each period's start."
    )
    next_refill_at = serializers.DateTimeField(read_only=True, allow_null=True)


class AllowlistSerializer(serializers.Serializer):
    ranges = serializers.ListField(
        child=serializers.CharField(max_length=64),
        max_length=rules.MAX_RANGES,
        help_text="IPv4 and IPv6 CIDR ranges; empty allows every address.",
    )
    report_only = serializers.BooleanField(
        default=False, help_text="Let refused addresses through and record them instead."
    )


class LimitsSerializer(serializers.Serializer):
    rate_limits = RateLimitSerializer(many=True, max_length=rules.MAX_RATE_LIMITS)
    credits = CreditsSerializer(allow_null=True)
    allowlist = AllowlistSerializer()


class LimitsUpdateSerializer(LimitsSerializer):
    confirm_lockout = serializers.BooleanField(
        required=False,
        write_only=True,
        help_text="Save an enforced allowlist that refuses your own address (else 409 lockout).",
    )


PUT_RESPONSES = {
    200: LimitsSerializer,
    409: OpenApiResponse(
        description="`lockout`: the allowlist would refuse the caller's own address; "
        "send confirmLockout: true to save it anyway."
    ),
}


def _only_admins(request):
    if request.auth.role != Role.ADMIN:
        raise PermissionDenied({"code": "admin_required", "detail": "Only admins may set limits."})


class LimitsMixin:
    """`GET/PUT …/{id}/limits` for a credential viewset whose `usage_kind` names its kind; the
    scopes are those of reading and of updating the credential."""

    def __init_subclass__(cls, **kwargs):
        # Once per class, as data: the scope check keeps grants per class (tokens.permissions).
        super().__init_subclass__(**kwargs)
        declared = cls.required_scopes
        cls.required_scopes = {
            **declared,
            "limits": declared["retrieve"],
            "set_limits": declared["partial_update"],
        }

    @extend_schema(responses=LimitsSerializer)
    @action(detail=True, methods=["get"])
    def limits(self, request, pk=None):
        """The credential's own limits (the organization's default applies where it has none)."""
        credential = self.get_object()
        row = services.limits_of(
            organization_id=credential.organization_id,
            kind=self.usage_kind,
            credential_id=credential.pk,
        )
        return Response(services.public(row))

    @extend_schema(request=LimitsUpdateSerializer, responses=PUT_RESPONSES)
    @limits.mapping.put
    def set_limits(self, request, pk=None):
        """Replace the credential's limits (admins)."""
        credential = self.get_object()
        _only_admins(request)
        body = request.data
        values = services.clean(body)
        with transaction.atomic():
            row = services.set_limits(
                organization=credential.organization,
                credential=credential,
                kind=self.usage_kind,
                values=values,
                by=request.user,
                ip=client_ip(request),
                confirm_lockout=body.get("confirm_lockout") is True,
            )
        return Response(services.public(row))


class OrganizationLimitsView(APIView):
    """The organization's default limits: they apply to every credential without its own (rate
    limits), and its allowlist to every credential besides the credential's own."""

    required_scopes = {"get": ["read.tokens"], "put": ["update.tokens"]}

    @extend_schema(responses=LimitsSerializer)
    def get(self, request):
        row = services.limits_of(organization_id=request.auth.organization_id)
        return Response(services.public(row))

    @extend_schema(request=LimitsUpdateSerializer, responses=PUT_RESPONSES)
    def put(self, request):
        _only_admins(request)
        body = request.data
        values = services.clean(body)
        if values["credits"] is not None:
            raise Refused(
                "credits_per_credential",
                "Credits are a credential's own balance; set them on each credential.",
                "credits",
            )
        row = services.set_limits(
            organization=Organization.objects.get(pk=request.auth.organization_id),
            values=values,
            by=request.user,
            ip=client_ip(request),
            confirm_lockout=body.get("confirm_lockout") is True,
        )
        return Response(services.public(row))
