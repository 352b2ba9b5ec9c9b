import logging
from urllib.parse import unquote_to_bytes

from django.conf import settings

from .errors import DATABASE_DOWN, INPUT_REFUSED, error_response, is_input_error, is_outage
from .parsers import CONTROL_CHARACTERS

log = logging.getLogger(__name__)

# Where programs talk to Keyward: the JSON API and the OAuth endpoints.
EDGE_PREFIXES = ("/api/", "/o/")
FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


class DatabaseUnavailableMiddleware:
    """A view that meets a database that is down answers 503, not a stack trace; a value the
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
            log.warning("database error on %s: %s", request.path, type(exception).__name__)
            return error_response(request, 503, "service_unavailable", DATABASE_DOWN, "503.html")
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
            if (name.startswith("HTTP_") or name == "CONTENT_TYPE") and isinstance(value, str):
                if CONTROL_CHARACTERS.search(value.replace("\t", " ")):
                    return self.control(f"The {name.removeprefix('HTTP_').replace('_', '-').title()} header")
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
        return (400, "invalid_characters",
                f"{where} holds NUL or another control character, which Keyward never accepts.", "400.html")
