"""Scope checks: every API view states the scopes it needs, and the caller must hold them all."""

from django.core.exceptions import ImproperlyConfigured
from rest_framework import exceptions, permissions

from .bearer.principal import Principal
from .usage import counter as usage


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


def required_scopes(view, method):
    """The scopes `view` declares for this request: a list, or a dict by action or method.

    A view that declares nothing is a configuration error, never an open door.
    """
    declared = getattr(view, "required_scopes", None)
    if declared is None:
        raise ImproperlyConfigured(f"{type(view).__name__} declares no required_scopes.")
    method = "get" if method.lower() == "head" else method.lower()
    is_viewset = hasattr(
        view, "get_extra_actions"
    )  # duck-typed: importing viewsets here is circular
    if is_viewset and getattr(view, "action", None) is None:
        return ()  # no action for this method: the viewset answers 405, nothing to grant
    if not is_viewset and not hasattr(view, method):
        return ()  # likewise for a plain view without a handler
    if isinstance(declared, dict):
        key = getattr(view, "action", None)
        if key not in declared:
            key = method
        if key not in declared:
            raise ImproperlyConfigured(
                f"{type(view).__name__} declares no required_scopes for {key!r}."
            )
        declared = declared[key]
    return declared


class HasRequiredScopes(permissions.BasePermission):
    """Allows an authenticated caller whose effective scopes cover the view's `required_scopes`."""

    def has_permission(self, request, view):
        # The Django request's own attributes: DRF's Request forwards each read of them through
        # __getattr__ after a failed lookup, a tenth of this check each.
        method = request._request.method
        if method == "OPTIONS":
            return isinstance(request.auth, Principal)
        required = required_scopes(view, method)
        principal = request.auth
        if not isinstance(principal, Principal):
            return False  # DRF turns this into 401 when nobody authenticated
        held = principal.scopes
        missing = [scope for scope in required if scope not in held]
        usage.checked(request._request.META, required, not missing)
        if missing:
            raise InsufficientScope(missing)
        return True
