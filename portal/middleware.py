import logging
from urllib.parse import unquote_to_bytes

import corsheaders.middleware
from django.conf import settings
from django.contrib.messages import get_messages
from django.http import Http404, JsonResponse
from django.template.loader import render_to_string

from accounts.throttle import Throttled
from tokens.oauth import cors

from .errors import (
    INPUT_REFUSED,
    error_response,
    handler404,
    is_input_error,
    is_outage,
    outage_detail,
)
from .parsers import CONTROL_CHARACTERS

log = logging.getLogger(__name__)

# Where programs talk to Keyward: the JSON API and the OAuth endpoints.
EDGE_PREFIXES = ("/api/", "/o/")
FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


class HtmxMessagesMiddleware:
    """An htmx fragment carries the messages its change left (an out-of-band swap of the page's
    #messages live region), so a rename or a revocation done in place says so, as a full page
    load would. Fragments that hold a secret are `no-store` pages too and get them the same way."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            not getattr(request, "htmx", False)
            or request.htmx.boosted
            or response.status_code >= 300
            or response.streaming
            or "text/html" not in response.get("Content-Type", "")
            or "HX-Redirect" in response
            or not get_messages(request)
        ):
            return response
        region = render_to_string(
            "partials/messages.html", {"messages": get_messages(request), "oob": True}
        )
        response.content += region.encode(response.charset)
        return response


class DatabaseUnavailableMiddleware:
    """A view that meets a database (or Redis) that is down answers 503, not a stack trace; a value the
    database refuses (NUL in a string, a number out of range) is the request's fault: 400."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if is_input_error(exception):
            log.info("database refused input on %s: %s", request.path, type(exception).__name__)
            return error_response(request, 400, "invalid_input", INPUT_REFUSED, "400.html")
        if is_outage(exception):
            log.warning("outage on %s: %s", request.path, type(exception).__name__)
            detail = outage_detail(exception)
            return error_response(request, 503, "service_unavailable", detail, "503.html")
        return None


class HostileInputMiddleware:
    """Refuses, on the API and OAuth routes, what no view should have to think about: control
    characters in headers, the query string or a form (the API's JSON parser checks JSON bodies;
    the API takes no forms and answers a clean one 415), and bodies bigger than
    DATA_UPLOAD_MAX_MEMORY_SIZE (413)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith(EDGE_PREFIXES):
            refusal = self.refusal(request)
            if refusal is not None:
                return error_response(request, *refusal)
        return self.get_response(request)

    def refusal(self, request):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return 400, "invalid_request", "Content-Length is not a number.", "400.html"
        if limit is not None and length > limit:
            return 413, "request_too_large", f"The body is larger than {limit} bytes.", "400.html"
        for name, value in request.META.items():
            is_header = name.startswith("HTTP_") or name == "CONTENT_TYPE"
            if (
                is_header
                and isinstance(value, str)
                and CONTROL_CHARACTERS.search(value.replace("\t", " "))
            ):
                return self.control(
                    f"The {name.removeprefix('HTTP_').replace('_', '-').title()} header"
                )
        query = unquote_to_bytes(request.META.get("QUERY_STRING", "")).decode("utf-8", "replace")
        if CONTROL_CHARACTERS.search(query):
            return self.control("The query string")
        if request.method == "POST" and request.content_type in FORMS:
            # Read the body first: request.POST then parses a copy, and the body stays readable
            # for DRF, which answers the API's forms 415 (a consumed multipart stream would
            # reach it as an empty body instead). DOT's views read request.POST.
            request.body  # noqa: B018
            for key, values in request.POST.lists():
                if CONTROL_CHARACTERS.search(key + "".join(values)):
                    return self.control("The form")
        return None

    @staticmethod
    def control(where):
        return (
            400,
            "invalid_characters",
            f"{where} holds NUL or another control character, which Keyward never accepts.",
            "400.html",
        )


class ThrottledMiddleware:
    """A throttled attempt that no view turned into an answer gets 429 with Retry-After.

    The login views answer it themselves; this catches the rest, such as OAuth client
    authentication inside django-oauth-toolkit's /o/ views, where it answers RFC 6749's
    error shape with `slow_down` (a registered token-endpoint error, RFC 8628 §3.5):
    `invalid_client` would tell a legitimate client its secret is wrong.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, Throttled):
            return None
        if request.path.startswith("/o/"):
            response = JsonResponse(
                {"error": "slow_down", "error_description": exception.sentence}, status=429
            )
            response["Cache-Control"] = "no-store"
        else:
            response = error_response(request, 429, "throttled", exception.sentence, "429.html")
        response["Retry-After"] = str(exception.retry_after)
        return response


class NotFoundMiddleware:
    """A view's Http404 answers our 404 page with DEBUG on too: Django's `handler404` is not
    used in debug, so under `make run` a deleted token's URL would show the debug 404. URLs
    that match no route still get Django's page in debug (it lists the routes)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, Http404):
            return handler404(request, exception)
        return None


class CorsMiddleware(corsheaders.middleware.CorsMiddleware):
    """django-cors-headers, deciding per path (CORS_URLS_REGEX limits it to these paths).

    The API answers only CORS_API_ALLOWED_ORIGINS (none by default: closed to browsers);
    /o/token/ and /o/revoke_token/ answer the origins the calling client registered; the
    /.well-known/ documents (discovery, JWKS) are public: `Access-Control-Allow-Origin: *`.
    """

    def add_response_headers(self, request, response):
        if request.path.startswith("/.well-known/"):
            # Public documents (discovery, JWKS): any page may read them, with no credentials.
            response["Access-Control-Allow-Origin"] = "*"
            return response
        return super().add_response_headers(request, response)

    def check_signal(self, request):
        origin = request.headers.get("Origin")
        if not origin:
            return False
        if request.path.startswith("/api/"):
            return origin in settings.CORS_API_ALLOWED_ORIGINS
        if request.path in cors.BROWSER_ENDPOINTS:
            return cors.origin_allowed_for_client(origin, cors.client_id_of(request))
        return False
