"""The viewset every platform resource builds on: list, fetch, create, PATCH and delete inside reach."""

from rest_framework import mixins, viewsets
from rest_framework.response import Response

from accounts.http import client_ip
from chats import reach


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

    @property
    def actor(self):
        """Who a write is done by, and from where: the keywords every service takes."""
        return {"by": self.request.user, "ip": client_ip(self.request)}

    org_field = "organization"
    contact_field = (
        None  # the path to Contact for the one-contact rule; None: such callers see nothing
    )

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
