"""The RateLimit-Policy and RateLimit headers (draft-ietf-httpapi-ratelimit-headers) on every
answer to a rate-limited credential, refusals included: the check leaves them in the environ."""

from accounts.http import ascii_header

from .check import HEADERS

_policy_header = ascii_header("RateLimit-Policy")
_state_header = ascii_header("RateLimit")


class RateLimitHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        headers = request.META.get(HEADERS)
        if headers is not None:
            # ASCII by construction: limit names are [a-z0-9_.-], the rest numbers.
            _policy_header(response, headers[0])
            _state_header(response, headers[1])
        return response
