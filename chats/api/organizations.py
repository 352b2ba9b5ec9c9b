"""Organizations and organization groups in reach."""

from rest_framework import serializers

from accounts import services as accounts
from accounts.models import Organization, OrganizationGroup
from chats import reach

from .base import ReachViewSet, crud_scopes


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
        organization = accounts.create_organization(
            name=serializer.validated_data["name"],
            slug=serializer.validated_data["slug"],
            group=own.group if owns_group else None,
            **self.actor,
        )
        serializer.instance = organization

    def perform_update(self, serializer):
        accounts.update_organization(
            organization=serializer.instance, **self.actor, **serializer.validated_data
        )

    def perform_destroy(self, organization):
        # The deleted organization's own audit log goes with it; the caller's keeps the record.
        accounts.delete_organization(
            organization=organization,
            **self.actor,
            witnesses=Organization.objects.filter(pk=self.request.auth.organization_id),
        )


class OrganizationGroupSerializer(serializers.ModelSerializer):
    organizations = serializers.SlugRelatedField(slug_field="public_id", many=True, read_only=True)

    class Meta:
        model = OrganizationGroup
        fields = ["id", "name", "slug", "organizations", "created_at"]
        read_only_fields = ["id", "organizations", "created_at"]


class OrganizationGroupViewSet(ReachViewSet):
    """The organization group of the credential's organization; only its owners may change it."""

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

    def get_object(self):
        group = super().get_object()
        if self.action in {"partial_update", "destroy"}:
            # Before the body is read: a non-owner learns nothing from validation either.
            accounts.require_group_owner(group=group, by=self.request.user)
        return group

    def perform_create(self, serializer):
        group = accounts.create_organization_group(
            name=serializer.validated_data["name"],
            slug=serializer.validated_data["slug"],
            witnesses=Organization.objects.filter(pk=self.request.auth.organization_id),
            **self.actor,
        )
        serializer.instance = group

    def perform_update(self, serializer):
        accounts.update_organization_group(
            group=serializer.instance, **self.actor, **serializer.validated_data
        )

    def perform_destroy(self, group):
        accounts.delete_organization_group(group=group, **self.actor)
