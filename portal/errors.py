"""One error format for the whole API: `{"code": "...", "detail": "A sentence."}`.

Validation errors add `errors` (field → messages). 401s carry an RFC 6750
`WWW-Authenticate` challenge; a database that does not answer is a 503, and only that: a
value the database refuses (NUL in a string, a number out of range, a broken constraint)
is the request's fault and a 400.
"""

import logging
import sys

import redis
from django.db import DataError, IntegrityError, InterfaceError, OperationalError
from django.http import Http404, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from accounts.errors import Refused

log = logging.getLogger(__name__)

DATABASE_DOWN = "The database is not answering. Try again in a moment."
REDIS_DOWN = "A service Keyward needs (Redis) is not answering. Try again in a moment."
INPUT_REFUSED = (
    "The request holds a value that cannot be stored (a NUL character, a number out of range…)."
)

# psycopg answers a NUL in a query parameter with DataError; psycopg2 and some drivers with
# this ValueError, raised before the query is sent.
_NUL_MESSAGES = ("cannot contain NUL", "NUL (0x00)")


def is_input_error(exc):
    """A database error the request caused, as opposed to a database that is not answering."""
    if isinstance(exc, (DataError, IntegrityError)):
        return True
    return isinstance(exc, ValueError) and any(m in str(exc) for m in _NUL_MESSAGES)


_OUTAGES = (
    OperationalError,
    InterfaceError,
    # Redis (REDIS_URL) keeps the throttle's counters and the cache: without it a password
    # door cannot count attempts, so it answers 503 rather than letting guesses through.
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
)


def is_outage(exc):
    """Only a lost or refused connection means a backing service is not answering (503)."""
    return isinstance(exc, _OUTAGES)


def outage_detail(exc):
    """The sentence for a 503: which service is not answering."""
    return REDIS_DOWN if isinstance(exc, redis.exceptions.RedisError) else DATABASE_DOWN


_DEFAULT_CODES = {
    400: "invalid",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    415: "unsupported_media_type",
    429: "throttled",
}


class InputRefused(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = INPUT_REFUSED
    default_code = "invalid_input"


class ServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = DATABASE_DOWN
    default_code = "service_unavailable"


def _quote(text):
    return str(text).replace("\\", "\\\\").replace('"', "'")


def bearer_challenge(error=None, description=None, scope=None):
    parts = ['Bearer realm="api"']
    if error:
        parts.append(f'error="{error}"')
    if description:
        parts.append(f'error_description="{_quote(description)}"')
    if scope:
        parts.append(f'scope="{_quote(scope)}"')
    return ", ".join(parts)


def _first_code(exc, fallback):
    codes = exc.get_codes()
    return codes if isinstance(codes, str) else fallback


def refusal_body(exc):
    body = {**exc.extra, "code": exc.code, "detail": exc.message}
    if exc.field:
        body["errors"] = {exc.field: [exc.message]}
    return body


def api_exception_handler(exc, context):
    if isinstance(exc, Refused):
        refusal = exceptions.ValidationError(refusal_body(exc))
        refusal.status_code = exc.status
        exc = refusal
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif is_input_error(exc):
        log.info("database refused input on an API request: %s", type(exc).__name__)
        exc = InputRefused()
    elif is_outage(exc):
        log.warning("outage on an API request: %s", type(exc).__name__)
        exc = ServiceUnavailable(outage_detail(exc))
    if not isinstance(exc, exceptions.APIException):
        return None  # a real bug: Django's 500 handler answers (without a stack trace)

    set_rollback()
    status_code = exc.status_code
    fallback = _DEFAULT_CODES.get(status_code, "error")
    if isinstance(exc.detail, dict) and "code" in exc.detail and "detail" in exc.detail:
        # Already in our format (a service's refusal, insufficient scope, ...).
        body = {"code": str(exc.detail["code"]), "detail": str(exc.detail["detail"])}
        body.update({k: v for k, v in exc.detail.items() if k not in ("code", "detail")})
    elif isinstance(exc, exceptions.ValidationError):
        body = {
            "code": "invalid",
            "detail": "Some fields are not valid; see `errors`.",
            "errors": exc.detail
            if isinstance(exc.detail, dict)
            else {"non_field_errors": exc.detail},
        }
        if isinstance(exc.detail, list) and len(exc.detail) == 1:
            body["detail"] = str(exc.detail[0])
    else:
        body = {"code": _first_code(exc, fallback), "detail": str(exc.detail)}
        if isinstance(exc, exceptions.NotAuthenticated):
            body["code"] = "not_authenticated"

    headers = {}
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        headers["Retry-After"] = str(int(exc.wait) + 1)
    if status_code == 401:
        error = None if body["code"] == "not_authenticated" else "invalid_token"
        if body["code"] == "invalid_request":
            error = "invalid_request"
        # RFC 6750 §3: a request without credentials gets the bare challenge, no error fields.
        # A scheme that failed with its own challenge (an API key's Basic) answers with that.
        headers["WWW-Authenticate"] = getattr(exc, "challenge", None) or bearer_challenge(
            error, body["detail"] if error else None
        )
    if body["code"] == "insufficient_scope":
        missing = body.get("missingScopes") or body.get("missing_scopes") or []
        headers["WWW-Authenticate"] = bearer_challenge(
            "insufficient_scope", body["detail"], " ".join(missing)
        )
    return Response(body, status=status_code, headers=headers)


def _wants_json(request):
    path = request.path
    return path.startswith(
        ("/api/", "/o/", "/healthz", "/.well-known/")
    ) or "application/json" in request.headers.get("Accept", "")


def error_response(request, status_code, code, detail, template):
    if _wants_json(request):
        return JsonResponse({"code": code, "detail": detail}, status=status_code)
    if status_code >= 503:
        # Rendered without the request: no context processor may touch a database that is down.
        return HttpResponse(render_to_string(template, {"detail": detail}), status=status_code)
    return HttpResponse(_render_in_layout(request, template, detail), status=status_code)


def _render_in_layout(request, template, detail):
    """The error inside the portal's layout (header, sections, the way on); a page that
    cannot be rendered with the request (the error came from there) falls back to a bare one."""
    context = {"detail": detail, "grantors": _grantors(request)}
    try:
        return render_to_string(template, context, request=request)
    except Exception:  # an error page must answer whatever broke
        log.exception("error page %s could not be rendered in the layout", template)
        return render_to_string(template, {**context, "bare": True})


def _grantors(request):
    """Who can grant access: the admins of the organization the person is a member of."""
    organization = getattr(request, "organization", None)
    if organization is None:
        return []
    return list(
        organization.memberships.filter(
            role="admin", user__is_service_account=False, user__is_active=True
        )
        .select_related("user")
        .order_by("user__email")[:10]
    )


def handler404(request, exception=None):
    return error_response(
        request, 404, "not_found", "Nothing here, or not yours to see.", "404.html"
    )


def handler403(request, exception=None):
    detail = str(exception) if exception and str(exception) else "You may not open this page."
    return error_response(request, 403, "permission_denied", detail, "403.html")


def handler400(request, exception=None):
    return error_response(
        request, 400, "bad_request", "The request could not be understood.", "400.html"
    )


def handler500(request):
    # Django calls this from inside its exception handler, so the cause is at hand.
    exc = sys.exc_info()[1]
    if is_input_error(exc):
        return error_response(request, 400, "invalid_input", INPUT_REFUSED, "400.html")
    if is_outage(exc):
        return error_response(request, 503, "service_unavailable", outage_detail(exc), "503.html")
    return error_response(
        request,
        500,
        "server_error",
        "Something went wrong on our side; it has been logged.",
        "500.html",
    )
