"""One canary per entry of tokens.internals: an upgrade that changes what Keyward relies on
fails here, with the entry's own sentence, before it fails in a request."""

import inspect

import pytest

from tokens.internals import RELIANCES


def _relies(key, condition):
    entry = RELIANCES[key]
    assert condition, (
        f"{entry.library} no longer does what {entry.where} relies on: {entry.what}. Why it "
        f"matters: {entry.why}."
    )


def test_every_reliance_has_a_canary():
    canaries = {name for name in globals() if name.startswith("test_canary_")}
    assert {f"test_canary_{key.replace('-', '_')}" for key in RELIANCES} == canaries


def test_canary_psycopg_connection_lock():
    import psycopg

    for method in ("commit", "rollback", "set_autocommit", "notifies"):
        source = inspect.getsource(getattr(psycopg.Connection, method))
        _relies("psycopg-connection-lock", "with self.lock" in source)
    # Connection.execute goes through a cursor, which takes its connection's lock.
    _relies(
        "psycopg-connection-lock", "self._conn.lock" in inspect.getsource(psycopg.Cursor.execute)
    )


def test_canary_psycopg_transformer():
    from psycopg.adapt import Transformer

    _relies(
        "psycopg-transformer",
        all(hasattr(Transformer, name) for name in ("set_pgresult", "load_row")),
    )


def test_canary_django_health_check_flags():
    from django.db.backends.base.base import BaseDatabaseWrapper

    source = inspect.getsource(BaseDatabaseWrapper.close_if_health_check_failed)
    _relies(
        "django-health-check-flags",
        "self.is_usable()" in source and "health_check_done" in source,
    )
    _relies(
        "django-health-check-flags",
        "close_if_health_check_failed" in inspect.getsource(BaseDatabaseWrapper._cursor),
    )


def test_canary_django_query_watchers():
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.backends.utils import CursorDebugWrapper

    _relies(
        "django-query-watchers",
        all(hasattr(CursorDebugWrapper, n) for n in ("debug_sql", "_execute_with_wrappers"))
        and "execute_wrappers" in inspect.getsource(BaseDatabaseWrapper.__init__)
        and isinstance(BaseDatabaseWrapper.queries_logged, property),
    )


@pytest.mark.django_db
def test_canary_django_model_state():
    from django.db.models.base import ModelState

    from accounts.models import User

    blank = User()
    _relies(
        "django-model-state",
        isinstance(blank.__dict__.get("_state"), ModelState)
        and {f.attname for f in User._meta.concrete_fields} <= set(blank.__dict__),
    )


def test_canary_dot_authorization_error_response():
    from oauth2_provider.views.base import AuthorizationView

    parameters = list(inspect.signature(AuthorizationView.error_response).parameters)
    _relies("dot-authorization-error-response", parameters[:3] == ["self", "error", "application"])
    _relies(
        "dot-authorization-error-response",
        "self.error_response(error, application=None" in inspect.getsource(AuthorizationView.get)
        or "error_response(error, None" in inspect.getsource(AuthorizationView.get),
    )


def test_canary_dot_save_bearer_token():
    from oauth2_provider.oauth2_validators import OAuth2Validator

    source = inspect.getsource(OAuth2Validator.save_bearer_token)
    _relies(
        "dot-save-bearer-token",
        "transaction.atomic" in source and "self._save_bearer_token" in source,
    )


def test_canary_cpython_builtin_sha256():
    import hashlib

    from tokens import secret_format

    _relies("cpython-builtin-sha256", secret_format.SHA256 is not hashlib.sha256)
    _relies(
        "cpython-builtin-sha256",
        secret_format.SHA256(b"kw").hexdigest() == hashlib.sha256(b"kw").hexdigest(),
    )


def test_canary_drf_request_wrapped_request():
    from django.test import RequestFactory
    from rest_framework.request import Request

    django_request = RequestFactory().get("/", HTTP_X_PROBE="1")
    wrapped = Request(django_request)
    _relies("drf-request-wrapped-request", wrapped._request is django_request)
    _relies("drf-request-wrapped-request", wrapped._request.META is wrapped.META)


def test_canary_drf_request_auth_attribute():
    from django.test import RequestFactory
    from rest_framework.request import Request

    principal = object()

    class Token:
        def authenticate(self, request):
            return "user", principal

    wrapped = Request(RequestFactory().get("/"), authenticators=[Token()])
    wrapped.user  # noqa: B018  (what APIView.perform_authentication does)
    _relies("drf-request-auth-attribute", wrapped._auth is principal)


def test_canary_django_response_header_store():
    from django.http import HttpResponse

    response = HttpResponse()
    response.headers._store["ratelimit"] = ("RateLimit", '"api";r=1;t=2')
    _relies("django-response-header-store", response["RateLimit"] == '"api";r=1;t=2')
    _relies("django-response-header-store", ("RateLimit", '"api";r=1;t=2') in response.items())


def test_canary_django_http_headers():
    from django.http.request import HttpHeaders

    environ = {"HTTP_X_ONE": "1", "CONTENT_TYPE": "text/plain", "wsgi.input": None}
    headers = HttpHeaders(environ)
    _relies("django-http-headers", set(headers._store) == {"x-one", "content-type"})
    for name in ("X-One", "x_one", "Content-Type"):
        _relies("django-http-headers", HttpHeaders.to_wsgi_name(name) in environ)
        _relies("django-http-headers", headers[name] == environ[HttpHeaders.to_wsgi_name(name)])
    # Lookups are the only methods that do not read the store.
    for method in ("__iter__", "__len__", "__repr__"):
        _relies(
            "django-http-headers", "self._store" in inspect.getsource(getattr(HttpHeaders, method))
        )


def test_canary_django_response_items():
    from django.core.handlers.wsgi import WSGIHandler
    from django.http import HttpResponse

    source = inspect.getsource(WSGIHandler.__call__)
    _relies("django-response-items", "self.get_response(request)" in source)
    _relies("django-response-items", "*response.items()" in source)
    response = HttpResponse(headers={"Content-Type": "application/json", "X-One": "1"})
    response["Vary"] = "Accept"
    response["x-one"] = "2"  # set again: still one entry, in its first place
    _relies(
        "django-response-items", list(response.items()) == list(response.headers._store.values())
    )
