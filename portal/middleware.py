import logging

from django.db import DatabaseError

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
