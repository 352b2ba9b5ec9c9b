"""One trivial endpoint, mounted once per authentication stack, so only authentication differs."""

from django.http import Http404
from django.urls import path
from oauth2_provider.contrib.rest_framework import OAuth2Authentication, TokenHasScope
from rest_framework.authentication import TokenAuthentication
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from tokens.bearer.authentication import AccessTokenAuthentication
from tokens.permissions import HasRequiredScopes
from tokens.usage.counter import CHECKED, MARK


class Ok(APIView):
    """`{"ok": true}`, rendered by plain JSONRenderer for every row (no camelCase pass)."""

    renderer_classes = [JSONRenderer]
    required_scopes = ["read.me"]

    def get(self, request):
        return Response({"ok": True})


class OneQuery(Ok):
    """The same answer after one indexed query, as every real endpoint makes (`/api/v1/me`
    reads the caller): the row that shows whether authentication adds a round trip of its own
    (a health check) to the view's query."""

    def get(self, request):
        User.objects.filter(email=QUERY_EMAIL).values_list("pk", flat=True).first()
        return Response({"ok": True})


QUERY_EMAIL = "bench@example.com"  # the bench's own user (bench.auth.seed_cast)
QUERY_SUFFIX = ", one query"


class ColdAccessTokenAuthentication(AccessTokenAuthentication):
    """Keyward on a cache miss: the cold row presents its own token, which this class never
    stores, so every request asks the database (the lookup sent as the request arrives)."""

    use_cache = False


class OkWithoutUsage(Ok):
    """The warm row's endpoint with usage's work left out: the request is not counted and the
    answer carries no scope headers (the mark and the note usage reads are dropped before its
    middleware sees them). Verification and the scope check are the warm row's own."""

    def get(self, request):
        meta = request._request.META
        meta.pop(MARK, None)
        meta.pop(CHECKED, None)
        return Response({"ok": True})


NO_AUTH = "no auth"
KEYWARD_WARM = "Keyward warm (cache)"
KEYWARD_COLD = "Keyward cold (cache miss)"
DRF = "DRF TokenAuthentication"
DOT = "DOT OAuth2Authentication"
# Verification and the scope check only, beside the warm row: the difference is what usage
# (counting the request, the two scope headers) adds (DESIGN.md gives each its own budget).
KEYWARD_WARM_UNCOUNTED = "Keyward warm, without usage"

# (row name, URL path, authentication classes, permission classes), in table order.
ROWS = (
    (NO_AUTH, "none/", [], [AllowAny]),
    (KEYWARD_WARM, "keyward/", [AccessTokenAuthentication], [HasRequiredScopes]),
    (KEYWARD_COLD, "keyward-cold/", [ColdAccessTokenAuthentication], [HasRequiredScopes]),
    (DRF, "drf/", [TokenAuthentication], [IsAuthenticated]),
    (DOT, "dot/", [OAuth2Authentication], [TokenHasScope]),
    (
        KEYWARD_WARM_UNCOUNTED,
        "keyward-uncounted/",
        [AccessTokenAuthentication],
        [HasRequiredScopes],
    ),
)

# The same rows with a view that runs one indexed query (`<path>query/`).
QUERY_ROWS = tuple(
    (name + QUERY_SUFFIX, url + "query/", auth, perms)
    for name, url, auth, perms in ROWS
    if name in (NO_AUTH, KEYWARD_WARM, KEYWARD_COLD, DRF, DOT)
)


def _mounted(views):
    """One route for every row, dispatching on the row's name: each row's URL resolves at the
    same cost (a list of routes is tried in order, which made later rows pay a failed match
    for every row listed before them, and the floor, listed first, none)."""

    def row(request, row):
        view = views.get(row)
        if view is None:
            raise Http404(row)
        return view(request)

    row.csrf_exempt = True  # as DRF's views are: the row's own view decides
    return row


urlpatterns = [
    path(
        "<slug:row>/",
        _mounted(
            {
                url.strip("/"): (OkWithoutUsage if name == KEYWARD_WARM_UNCOUNTED else Ok).as_view(
                    authentication_classes=auth, permission_classes=perms
                )
                for name, url, auth, perms in ROWS
            }
        ),
    ),
    path(
        "<slug:row>/query/",
        _mounted(
            {
                url.removesuffix("query/").strip("/"): OneQuery.as_view(
                    authentication_classes=auth, permission_classes=perms
                )
                for _name, url, auth, perms in QUERY_ROWS
            }
        ),
    ),
]
