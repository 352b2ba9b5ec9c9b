"""Every place Keyward relies on a library's non-public behaviour, with the reason.

Each entry names the library, what is relied upon, where, and why the public API does not do
the job (or did it measurably slower). `tests/tokens/test_internals.py` holds one canary per
entry: an upgrade that changes what an entry relies on fails there with the entry's sentence,
not somewhere deep in a request. Add the entry and its canary together.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Reliance:
    library: str
    what: str
    where: str
    why: str


RELIANCES = {
    "psycopg-connection-lock": Reliance(
        "psycopg",
        "every operation on a Connection (execute, commit, autocommit, notifies) first takes "
        "`self.lock`, an attribute that can be replaced",
        "tokens.bearer.lookup._DrainingLock",
        "a bearer lookup sent ahead leaves an unread answer on the connection; whatever psycopg "
        "does next must read and drop it first, and the lock is the one door every operation uses",
    ),
    "psycopg-transformer": Reliance(
        "psycopg",
        "`psycopg.adapt.Transformer(conn)`, `set_pgresult()` and `load_row(row, tuple)` read a "
        "libpq result in C",
        "tokens.bearer.lookup._PreparedLookup",
        "the lookup runs on the pq layer (one PQexecPrepared); a psycopg cursor around the same "
        "statement cost more Python than the server spends, and psycopg's own prepared "
        "statements are deallocated after any rollback",
    ),
    "django-health-check-flags": Reliance(
        "Django",
        "`BaseDatabaseWrapper.health_check_enabled`, `health_check_done` and "
        "`close_if_health_check_failed()` calling `is_usable()` once per request",
        "tokens.bearer.lookup (the lookup stands in for the check); portal.postgresql",
        "a request's first query pays the check; the lookup and the socket test replace its "
        "round trip",
    ),
    "django-query-watchers": Reliance(
        "Django",
        "`connection.queries_logged`, `connection.execute_wrappers`, `wrap_database_errors`, "
        "and `CursorDebugWrapper.debug_sql` / `_execute_with_wrappers`",
        "tokens.bearer.lookup._LookupDebugWrapper",
        "a lookup run on the libpq handle must still be seen by DEBUG's query log, tests' "
        "query capture and execute_wrapper hooks",
    ),
    "django-model-state": Reliance(
        "Django",
        "a model instance is its `__dict__` of field attnames plus `_state` (a ModelState with "
        "`adding` and `db`); `Model.__new__` without `__init__` is a valid blank",
        "tokens.bearer.authentication._Cached.user",
        "Model.__init__ was a third of a warm request; the cache builds each request's User "
        "from values worked out once",
    ),
    "cpython-builtin-sha256": Reliance(
        "CPython",
        "the builtin hash module (`_sha256` up to 3.11, `_sha2` since) has a `sha256` "
        "constructor giving the same digest as hashlib's",
        "tokens.secret_format.digest (falls back to hashlib.sha256 without it)",
        "every bearer request hashes its secret; hashlib's OpenSSL SHA-256 sets up an EVP "
        "context through OpenSSL 3's providers, about twice the builtin's time warm and cold",
    ),
    "drf-request-wrapped-request": Reliance(
        "Django REST framework",
        "`Request._request` is the Django HttpRequest it wraps, so its `META` is the same dict",
        "tokens.bearer.authentication, tokens.permissions, tokens.api_keys.authentication",
        "DRF's Request forwards every other attribute through `__getattr__` after a failed "
        "lookup: three quarters of the scope check's time, read on every request",
    ),
    "drf-request-auth-attribute": Reliance(
        "Django REST framework",
        "once a Request has authenticated, `Request._auth` holds what `request.auth` answers",
        "tokens.permissions.HasRequiredScopes (falls back to `request.auth` without it)",
        "`request.auth` is a Python property (a frame and a hasattr) on every scope check, "
        "which runs on every API request",
    ),
    "django-response-header-store": Reliance(
        "Django",
        "`HttpResponse.headers._store` maps a lower-cased header name to (name, value)",
        "accounts.http.header_key, under which tokens.usage.counter (the scope headers) and "
        "tokens.limits.middleware (the RateLimit headers) store ready-made entries on every "
        "API answer",
        "`response[name] = value` checks each value's charset (~0.6 µs apiece); these values "
        "are ASCII by construction",
    ),
    "django-http-headers": Reliance(
        "Django",
        "`HttpHeaders` keeps its mapping in `_store` (read by every method but a lookup) and "
        "looks a header up as the environ key its classmethod `to_wsgi_name` gives",
        "portal.headers.Headers (what HeadersMiddleware gives every request as `request.headers`)",
        "Django builds `request.headers` by parsing every header's name into a new dict, more "
        "bytecodes than the whole warm path adds, on every request that asks for one header "
        "(django-cors-headers for Origin, DRF's negotiation for Accept, django-htmx)",
    ),
    "django-response-items": Reliance(
        "Django",
        "`WSGIHandler` (which Django keeps out of its public API) hands the server "
        "`response.items()` as the answer's headers, after `get_response`; "
        "`response.headers._store.values()` are the same (name, value) pairs in the same order",
        "portal.handlers.WSGIHandler (portal.wsgi's application)",
        "`items()` walks Django's case-insensitive mapping in three Python frames a header, "
        "about 30 bytecodes each: 236 of the bench's trivial answer, a fifth of what the "
        "RateLimit headers add",
    ),
    "dot-authorization-error-response": Reliance(
        "django-oauth-toolkit",
        "`AuthorizationView.error_response(error, application, **kwargs)` is where a GET "
        "authorize error is answered, with `application=None`",
        "tokens.oauth.endpoints (the authorization view's error_response)",
        "DOT checks a redirect against the global schemes when it has no application, so a "
        "native app's loopback URI got a 400 instead of its error redirect",
    ),
    "dot-save-bearer-token": Reliance(
        "django-oauth-toolkit",
        "`OAuth2Validator._save_bearer_token(token, request)` runs inside the transaction of "
        "`save_bearer_token`",
        "tokens.oauth.validator.KeywardOAuth2Validator",
        "concurrent refreshes and code exchanges are settled under a row lock in that "
        "transaction (DOT 3.4.1 answered the loser of a refresh race with a 500)",
    ),
}
