import logging

import corsheaders.middleware
from django.conf import settings
from django.db import DatabaseError

from tokens.oauth import cors

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
