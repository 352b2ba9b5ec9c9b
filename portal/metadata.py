"""What `OPTIONS` answers on the API."""

from rest_framework.metadata import BaseMetadata


class OperationMetadata(BaseMetadata):
    """Name, description and media types; the `Allow` header lists the methods.

    DRF's SimpleMetadata re-runs the permission checks of other methods and builds their
    serializers, which fails on views whose scopes or serializers depend on the action; the
    OpenAPI document at /api/schema/ already describes every body, so OPTIONS does not.
    """

    def determine_metadata(self, request, view):
        return {
            "name": view.get_view_name(),
            "description": view.get_view_description(),
            "renders": [renderer.media_type for renderer in view.renderer_classes],
            "parses": [parser.media_type for parser in view.parser_classes],
        }
