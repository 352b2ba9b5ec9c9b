import logging

from django.db import DatabaseError
from django.http import Http404

from .errors import DATABASE_DOWN, error_response, handler404

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
