"""Scope checks: every API view states the scopes it needs, and the caller must hold them all."""

from django.core.exceptions import ImproperlyConfigured
from rest_framework import exceptions, permissions

from .bearer.principal import Principal
from .usage.counter import CHECKED, checked


class InsufficientScope(exceptions.PermissionDenied):
    default_code = "insufficient_scope"

    def __init__(self, missing):
        missing = list(missing)
        super().__init__(
            {
                "code": "insufficient_scope",
                "detail": "This credential lacks the scope(s) this operation needs: "
                + ", ".join(missing)
                + ".",
                "missing_scopes": missing,
            }
        )


# The handler a method calls (HEAD is answered by `get`), without a lower() per request.
_HANDLERS = {m: m.lower() for m in ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE")}
_HANDLERS["HEAD"] = "get"

_viewsets = {}  # view class → whether it is a viewset (duck-typed once per class)


def _learn_viewset(cls):
    # Duck-typed: importing DRF's viewsets here is circular (this class is in DRF's
    # settings, which rest_framework.views reads while it loads).
    found = _viewsets[cls] = hasattr(cls, "get_extra_actions")
    return found


def required_scopes(view, method):
    """The scopes `view` declares for this request: a list, or a dict by action or method.

    A view that declares nothing is a configuration error, never an open door.
    """
    declared = getattr(view, "required_scopes", None)
    if declared is None:
        raise ImproperlyConfigured(f"{type(view).__name__} declares no required_scopes.")
    handler = _HANDLERS.get(method) or method.lower()
    viewset = _viewsets.get(type(view))
    if viewset is None:
        viewset = _learn_viewset(type(view))
    if viewset:
        key = getattr(view, "action", None)
        if key is None:
            return ()  # no action for this method: the viewset answers 405, nothing to grant
    elif not hasattr(view, handler):
        return ()  # likewise for a plain view without a handler
    else:
        key = None
    if type(declared) is not dict:
        return declared
    if key not in declared:
        key = handler
    if key not in declared:
        raise ImproperlyConfigured(
            f"{type(view).__name__} declares no required_scopes for {key!r}."
        )
    return declared[key]


# (view class, method, action, scopes held) → what the check leaves for usage when those held
# cover the scopes that class requires for it (`usage.counter.checked`, made once). Bounded:
# beyond it, grants are worked out each time as before.
_granted = {}
MAX_GRANTS = 10_000


def _declared(cls):
    """Whether `cls` declares its scopes as data (a list, or a dict by action or method), so
    that they are the same for every instance; not, say, a property."""
    return type(getattr(cls, "required_scopes", None)) in (list, tuple, dict)


class HasRequiredScopes(permissions.BasePermission):
    """Allows an authenticated caller whose effective scopes cover the view's `required_scopes`."""

    def has_permission(self, request, view):
        # The Django request's own attributes: DRF's Request forwards each read of them through
        # __getattr__ after a failed lookup, a tenth of this check each.
        django_request = request._request
        method = django_request.method
        try:
            principal = request._auth  # what `request.auth` answers once DRF authenticated
        except AttributeError:
            principal = request.auth
        if not isinstance(principal, Principal):
            return False  # DRF turns this into 401 when nobody authenticated
        held = principal.scopes
        # A grant this process already worked out: the same view class, method and action
        # (what `required_scopes` reads) and the same scopes held. Only where the instance
        # reads its class's scopes: it may carry its own (as_view arguments). Read through
        # attributes, never the instance's __dict__, which CPython would build for the asking.
        # Grants are only kept for the methods of _HANDLERS other than OPTIONS (below), so a
        # hit is one of those.
        cls = type(view)
        if getattr(view, "required_scopes", None) is getattr(cls, "required_scopes", None):
            key = (cls, method, getattr(view, "action", None), held)
            granted = _granted.get(key)
            if granted is not None:
                django_request.META[CHECKED] = granted
                return True
        else:
            key = None
        if method == "OPTIONS":
            return True
        required = required_scopes(view, method)
        for scope in required:
            if scope not in held:
                missing = [scope for scope in required if scope not in held]
                django_request.META[CHECKED] = checked(required, False, held)
                raise InsufficientScope(missing)
        granted = checked(required, True, held)
        if (
            key is not None
            and method in _HANDLERS
            and len(_granted) < MAX_GRANTS
            and _declared(cls)
        ):
            _granted[key] = granted
        django_request.META[CHECKED] = granted
        return True
