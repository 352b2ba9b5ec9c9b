"""The WSGI handler Keyward is served by (portal.wsgi): Django's, handing the server each
answer's headers as Django already stores them."""

from django.core.handlers import wsgi


class WSGIHandler(wsgi.WSGIHandler):
    """Django's handler reads an answer's headers through `response.items()`, which walks
    Django's case-insensitive header mapping in three Python frames a header, about 30
    bytecodes each: 236 of the bench's trivial answer, and a fifth of what the two RateLimit
    headers add. The mapping's store already holds each header as the (name, value) pair the
    server is given, in order, so the answer hands its store's values over instead
    (tokens.internals: "django-response-items"; tests/portal/test_handler.py compares the two
    handlers' headers)."""

    def get_response(self, request):
        response = super().get_response(request)
        response.items = response.headers._store.values
        return response
