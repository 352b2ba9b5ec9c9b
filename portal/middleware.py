import logging

from django.db import DatabaseError
from django.http import JsonResponse

from accounts.throttle import Throttled

from .errors import DATABASE_DOWN, error_response

log = logging.getLogger(__name__)


class DatabaseUnavailableMiddleware:
    """A view that meets a database that is down answers 503, not a stack trace."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, DatabaseError):
            log.warning("database error on %s: %s", request.path, type(exception).__name__)
            return error_response(request, 503, "service_unavailable", DATABASE_DOWN, "503.html")
        return None


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
            response = JsonResponse({"error": "slow_down", "error_description": exception.sentence}, status=429)
            response["Cache-Control"] = "no-store"
        else:
            response = error_response(request, 429, "throttled", exception.sentence, "429.html")
        response["Retry-After"] = str(exception.retry_after)
        return response
