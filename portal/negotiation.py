"""DRF's content negotiation, reading the Accept header straight from the request's environ.

DRF's `DefaultContentNegotiation.get_accept_list` reads `request.headers`, and Django builds
that dict by parsing the name of every header the request carries: on an API request that is
most of the work negotiation does (tokens.internals: "drf-accept-list-reads-headers"). Here it
reads the one header it uses instead, and DRF's own parsing (its length cap included) does the
rest, unchanged.
"""

from rest_framework.negotiation import DefaultContentNegotiation


class _AcceptOnly:
    """What `get_accept_list` reads of a request: its Accept header, if it sent one."""

    __slots__ = ("headers",)

    def __init__(self, meta):
        accept = meta.get("HTTP_ACCEPT")
        self.headers = {} if accept is None else {"accept": accept}


class ContentNegotiation(DefaultContentNegotiation):
    def get_accept_list(self, request):
        # DRF's Request, or (from Django's side of DRF) the HttpRequest it wraps.
        meta = getattr(request, "_request", request).META
        return super().get_accept_list(_AcceptOnly(meta))
