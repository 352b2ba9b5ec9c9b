"""OpenAPI: every operation carries the scopes it requires, from the same declarations the checks use."""

from functools import lru_cache

from django.core.exceptions import FieldDoesNotExist
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
    target_class = "tokens.bearer.authentication.AccessTokenAuthentication"
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


def _column_of(field):
    """(the model column a serializer field reads through its source, whether the read can be None)."""
    model = getattr(getattr(getattr(field, "parent", None), "Meta", None), "model", None)
    attrs = getattr(field, "source_attrs", None)
    if model is None or not attrs:
        return None, False
    nullable = False
    column = None
    for attr in attrs:
        try:
            column = model._meta.get_field(attr)
        except (AttributeError, FieldDoesNotExist):
            return None, False
        nullable = nullable or column.null
        model = column.related_model
    return column, nullable


class ScopedAutoSchema(AutoSchema):
    def get_description(self):
        description = super().get_description() or ""
        scopes = _operation_scopes(self)
        if scopes is None or getattr(self.view, "permission_classes", None) == []:
            return description
        needed = ", ".join(f"`{s}`" for s in scopes) if scopes else "none beyond a valid credential"
        return f"{description}\n\n**Required scopes:** {needed}".strip()

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        meta = super()._map_serializer_field(field, direction, bypass_extensions)
        _column, nullable = _column_of(field)
        if direction == "response" and nullable and not meta.get("nullable") and "$ref" not in meta:
            # DRF answers null for a None attribute whatever the field says (Serializer.to_representation).
            meta["nullable"] = True
        return meta

    def _insert_field_validators(self, field, schema):
        super()._insert_field_validators(field, schema)
        column, _nullable = _column_of(field)
        if schema.get("format") == "email" and (
            getattr(field, "allow_blank", False) or (column and column.blank)
        ):
            # "" means "no email" (a contact who never gave one): say so rather than claim format: email.
            del schema["format"]
            schema["anyOf"] = [{"format": "email"}, {"maxLength": 0}]

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
    return tuple(
        (f"{method} {path}", frozenset(required_scopes(view, method)))
        for path, method, view in api_operations()
    )


def operations_allowed(scopes):
    """The operations a credential with these effective scopes may call ("what this token can do")."""
    granted = frozenset(scopes)
    return [operation for operation, needed in _operation_table() if needed and granted >= needed]


# One error format (portal/errors.py), documented once and referenced by every operation.
ERROR_SCHEMA = {
    "type": "object",
    "description": "Every refusal: a stable `code`, a sentence for people, and field errors for a 400.",
    "properties": {
        "code": {"type": "string", "example": "not_found"},
        "detail": {"type": "string"},
        "errors": {
            "type": "object",
            "description": "Field → messages; list and nested fields hold "
            "their items' errors the same way.",
        },
    },
    "required": ["code", "detail"],
}
_ERRORS = {
    "400": "The request is malformed, holds control characters, or a field is not valid.",
    "401": "No credential, or a malformed, unknown, revoked or expired one (WWW-Authenticate says which).",
    "403": "The credential is valid, but its effective scopes or role do not allow this.",
    "404": "No such object, or not within the credential's reach (the two are answered alike).",
}
_BODY_ERRORS = {
    "413": "The body is larger than the server accepts.",
    "415": "The body's content type is not application/json.",
}


def document_errors(result, generator, request, public):
    """drf-spectacular postprocessing hook: every operation lists the 400/401/403/404 it can answer
    (and 413/415 when it takes a body), all with the one error schema."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    content = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for item in result.get("paths", {}).values():
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            responses = operation.setdefault("responses", {})
            errors = dict(_ERRORS, **(_BODY_ERRORS if "requestBody" in operation else {}))
            for code, description in errors.items():
                documented = responses.setdefault(code, {"description": description})
                documented.setdefault("content", content)
            for code, documented in responses.items():
                if code.startswith(("4", "5")):
                    documented.setdefault("content", content)
    return result


SCOPE_HEADERS = {
    "X-OAuth-Scopes": {
        "description": "The scopes the credential holds today (its effective scopes), comma-separated.",
        "schema": {"type": "string"},
    },
    "X-Accepted-OAuth-Scopes": {
        "description": "The scopes this operation requires, comma-separated (empty: none beyond a valid credential).",
        "schema": {"type": "string"},
    },
}


def document_scope_headers(result, generator, request, public):
    """drf-spectacular postprocessing hook: an operation that checks scopes answers, on success
    and on 403, which scopes it accepts and which the credential holds (GitHub's headers)."""
    for item in result.get("paths", {}).values():
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete") or (
                "x-required-scopes" not in operation
            ):
                continue
            for code, documented in operation.get("responses", {}).items():
                if code.startswith("2") or code == "403":
                    documented.setdefault("headers", {}).update(SCOPE_HEADERS)
    return result
