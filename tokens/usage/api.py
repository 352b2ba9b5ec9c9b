"""Usage over the API: `GET …/{id}/usage` on every credential kind (same reach and scopes as
reading the credential) and the organization's total at `GET /api/v1/usage` (admins)."""

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Role

from . import report

PERIOD = OpenApiParameter(
    "period",
    str,
    enum=list(report.PERIODS),
    default=report.DEFAULT_PERIOD,
    description="How far back: 24h and 7d in hourly buckets, 30d and 90d in daily ones.",
)


class UsageStatusSerializer(serializers.Serializer):
    status = serializers.IntegerField(help_text="The HTTP status answered.")
    requests = serializers.IntegerField()


class UsageTotalsSerializer(serializers.Serializer):
    requests = serializers.IntegerField()
    errors = serializers.IntegerField(help_text="Requests answered 4xx or 5xx.")
    previous_secret_requests = serializers.IntegerField(
        help_text="Requests that presented the previous secret of a rotation, during its overlap."
    )
    previous_secret_last_used_at = serializers.DateTimeField(allow_null=True)
    statuses = UsageStatusSerializer(many=True)


class UsageBucketSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    requests = serializers.IntegerField()
    errors = serializers.IntegerField()


class UsageOperationSerializer(serializers.Serializer):
    operation = serializers.CharField(help_text="Method and path template: `GET /api/v1/me`.")
    requests = serializers.IntegerField()
    errors = serializers.IntegerField()
    statuses = UsageStatusSerializer(many=True)


class UsageAddressSerializer(serializers.Serializer):
    address = serializers.CharField(allow_null=True, help_text="The client address.")
    requests = serializers.IntegerField()
    first_seen = serializers.DateTimeField(help_text="Start of the first bucket it was seen in.")
    last_seen = serializers.DateTimeField(help_text="Start of the last bucket it was seen in.")


class UsageScopeSerializer(serializers.Serializer):
    scope = serializers.CharField()
    last_used_at = serializers.DateTimeField(
        allow_null=True,
        help_text="The last time (to the bucket) it authorized a request; null: not in what is kept.",
    )


class UsageSerializer(serializers.Serializer):
    period = serializers.ChoiceField(choices=list(report.PERIODS))
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    bucket = serializers.ChoiceField(choices=["hour", "day"])
    totals = UsageTotalsSerializer()
    series = UsageBucketSerializer(
        many=True, help_text="Requests and errors per bucket, oldest first."
    )
    operations = UsageOperationSerializer(
        many=True, help_text="The busiest operations, with their statuses."
    )
    addresses = UsageAddressSerializer(many=True, help_text="The busiest client addresses.")
    scopes = UsageScopeSerializer(many=True)


class UsageCredentialSerializer(serializers.Serializer):
    kind = serializers.CharField()
    id = serializers.IntegerField()
    requests = serializers.IntegerField()
    errors = serializers.IntegerField()


class OrganizationUsageSerializer(UsageSerializer):
    credentials = UsageCredentialSerializer(many=True, help_text="The busiest credentials.")


class UsageMixin:
    """`GET …/{id}/usage` for a credential viewset: the kind sets `usage_kind` and may override
    `granted_scopes(credential)` (a scope string; None lists the scopes seen)."""

    usage_kind: str

    def granted_scopes(self, credential):
        return getattr(credential, "scope", None)

    def usage_ids(self, credential):
        """The ids usage is counted under for this credential."""
        return [credential.pk]

    @extend_schema(parameters=[PERIOD], responses=UsageSerializer)
    @action(detail=True, methods=["get"])
    def usage(self, request, pk=None):
        """Requests over a period: totals, a time series, operations, addresses and scopes."""
        credential = self.get_object()
        period = report.parse_period(request.query_params.get("period"))
        data = report.report(
            report.credential_filter(self.usage_kind, self.usage_ids(credential)),
            period=period,
            now=timezone.now(),
            granted=self.granted_scopes(credential),
        )
        return Response(UsageSerializer(data).data)


class OrganizationUsageView(APIView):
    """Every credential of the organization together: the same answer, plus the busiest credentials."""

    required_scopes = ["read.tokens", "read.api_keys", "read.oauth_clients"]

    @extend_schema(parameters=[PERIOD], responses=OrganizationUsageSerializer)
    def get(self, request):
        if request.auth.role != Role.ADMIN:
            raise PermissionDenied("Only admins may read the organization's usage.")
        period = report.parse_period(request.query_params.get("period"))
        now = timezone.now()
        organization_id = request.auth.organization_id
        data = report.report(report.organization_filter(organization_id), period=period, now=now)
        data["credentials"] = [
            {"kind": kind, "id": credential_id, "requests": n, "errors": e}
            for kind, credential_id, n, e in report.busiest(organization_id, since=data["start"])
        ]
        return Response(OrganizationUsageSerializer(data).data)
