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
            response["RateLimit-Policy"], response["RateLimit"] = headers
        return response
