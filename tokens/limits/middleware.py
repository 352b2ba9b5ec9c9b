"""The RateLimit-Policy and RateLimit headers (draft-ietf-httpapi-ratelimit-headers) on every
answer to a rate-limited credential, refusals included: the check leaves them in the environ."""

from accounts.http import set_ascii_header

from .check import HEADERS


class RateLimitHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        headers = request.META.get(HEADERS)
        if headers is not None:
            # ASCII by construction: limit names are [a-z0-9_.-], the rest numbers.
            set_ascii_header(response, "RateLimit-Policy", headers[0])
            set_ascii_header(response, "RateLimit", headers[1])
        return response
