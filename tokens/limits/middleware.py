"""The RateLimit-Policy and RateLimit headers (draft-ietf-httpapi-ratelimit-headers) on every
answer to a rate-limited credential, refusals included: the check leaves them in the environ."""

from .check import HEADERS


class RateLimitHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        headers = request.META.get(HEADERS)
        if headers is not None:
            # Straight into the header store: `response[...] = ` checks the charset of each
            # value (~0.6 µs apiece), and these are ASCII by construction (limit names are
            # [a-z0-9_.-], the rest numbers). tests/tokens/limits/test_api.py reads them back.
            store = response.headers._store
            store["ratelimit-policy"] = ("RateLimit-Policy", headers[0])
            store["ratelimit"] = ("RateLimit", headers[1])
        return response
