"""The RateLimit-Policy and RateLimit headers (draft-ietf-httpapi-ratelimit-headers) on every
answer to a rate-limited credential, refusals included: the check leaves them in the environ."""

from accounts.http import header_key

from .check import HEADERS, POLICY_HEADER, STATE_HEADER

# Stored straight into the response's header store (accounts.http.header_key): the check made
# the (name, value) entries, ASCII by construction (limit names are [a-z0-9_.-], the rest
# numbers).
_policy_key = header_key(POLICY_HEADER)
_state_key = header_key(STATE_HEADER)


class RateLimitHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        headers = request.META.get(HEADERS)
        if headers is not None:
            store = response.headers._store
            store[_policy_key] = headers[0]
            store[_state_key] = headers[1]
        return response
