"""OpenAPI: every operation carries the scopes it requires, from the same declarations the checks use."""

from functools import lru_cache

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema

from . import scopes as catalog
from .permissions import required_scopes


def _operation_scopes(auto_schema):
    try:
        return list(required_scopes(auto_schema.view, auto_schema.method))
    except Exception:
        return None


class AccessTokenScheme(OpenApiAuthenticationExtension):
    target_class = "tokens.authentication.AccessTokenAuthentication"
    name = "keyward"

    def get_security_definition(self, auto_schema):
        all_scopes = {s.name: s.description for s in catalog.SCOPES.values()}
        all_scopes.update(catalog.ROLE_DESCRIPTIONS)
        return {
            "type": "oauth2",
            "description": "A Keyward bearer token (personal, login or OAuth): "
            "`Authorization: Bearer <token>`. Never in the URL.",
            "flows": {
                "authorizationCode": {
                    "authorizationUrl": "/o/authorize/",
                    "tokenUrl": "/o/token/",
                    "scopes": all_scopes,
                }
            },
        }

    def get_security_requirement(self, auto_schema):
        scopes = _operation_scopes(auto_schema)
        return {self.name: scopes or []}


class ScopedAutoSchema(AutoSchema):
    def get_description(self):
        description = super().get_description() or ""
        scopes = _operation_scopes(self)
        if scopes is None or getattr(self.view, "permission_classes", None) == []:
            return description
        needed = ", ".join(f"`{s}`" for s in scopes) if scopes else "none beyond a valid credential"
        return f"{description}\n\n**Required scopes:** {needed}".strip()


    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        if operation is not None:
            scopes = _operation_scopes(self)
            if scopes is not None:
                operation["x-required-scopes"] = scopes
        return operation


def api_operations():
    """(path, METHOD, view) for every operation under /api/v1/, views set up for their action."""
    from drf_spectacular.generators import EndpointEnumerator

    for path, _regex, method, callback in EndpointEnumerator().get_api_endpoints():
        if not path.startswith("/api/v1/"):
            continue
        view = callback.cls()
        actions = getattr(callback, "actions", None)
        if actions:
            view.action = actions.get(method.lower())
        yield path, method, view


def operations_by_scope():
    """Scope name → the operations that require it, in catalog order."""
    found = {name: [] for name in catalog.SCOPES}
    for path, method, view in api_operations():
        for scope in required_scopes(view, method):
            found.setdefault(scope, []).append(f"{method} {path}")
        if method in ("GET", "POST"):
            # Scopes that widen what an operation does (more fields, acting as the bot).
            for scope in getattr(view, "optional_scopes", ()):
                found.setdefault(scope, []).append(f"{method} {path} (widens it)")
    return found


@lru_cache(maxsize=1)
def _operation_table():
    # The URL configuration does not change while the process runs.
    return tuple((f"{method} {path}", frozenset(required_scopes(view, method)))
                 for path, method, view in api_operations())


def operations_allowed(scopes):
    """The operations a credential with these effective scopes may call ("what this token can do")."""
    granted = frozenset(scopes)
    return [operation for operation, needed in _operation_table() if needed and granted >= needed]
