"""`request.headers` that reads the one header it is asked for.

Django builds `request.headers` (an `HttpHeaders`) by parsing the name of every header the
request carries into a new dict: about 600 bytecodes a request, more than the whole warm
path adds. Every request pays it once something asks for one header: django-cors-headers asks
for Origin, DRF's content negotiation for Accept, django-htmx for HX-Request, Keyward itself
for a few more. `Headers` is Django's class with the same answers, but a lookup of one header
reads the environ key Django's own `HttpHeaders.to_wsgi_name` names, and the whole mapping is
built only when something iterates, counts, compares or prints it (tokens.internals:
"django-http-headers"; tests/portal/test_headers.py compares the two).
"""

from django.http.request import HttpHeaders
from django.utils.functional import cached_property


class Headers(HttpHeaders):
    """Django's `HttpHeaders` over `environ`, with each lookup read from the environ."""

    def __init__(self, environ):  # not the parent's: it would build the store this defers
        self._environ = environ

    @cached_property
    def _store(self):
        """The whole mapping, as Django builds it: only for iteration, len, ==, repr."""
        return HttpHeaders(self._environ)._store

    def _name(self, key):
        """The environ key of header `key`, or None where only the whole mapping answers as
        Django does: Content-Type and Content-Length (a server may give both their CGI name and
        an HTTP_ one), names outside ASCII (whose upper and lower cases need not pair), and the
        empty name (Django skips a bare `HTTP_` key)."""
        name = self.to_wsgi_name(key)
        if name in self.UNPREFIXED_HEADERS or not key or not key.isascii():
            return None
        return name

    def __getitem__(self, key):
        name = self._name(key)
        if name is None:
            return super().__getitem__(key)
        return self._environ[name]

    def get(self, key, default=None):
        name = self._name(key)
        if name is None:
            return super().get(key, default)
        return self._environ.get(name, default)

    def __contains__(self, key):
        name = self._name(key)
        if name is None:
            return super().__contains__(key)
        return name in self._environ


class HeadersMiddleware:
    """Gives every request `Headers` before anything reads one (first in MIDDLEWARE)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.headers = Headers(request.META)
        return self.get_response(request)
