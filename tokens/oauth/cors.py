"""Which origins may call the token and revocation endpoints from a browser (RFC 6749 clients
running in a page): those the calling client registered (`Application.allowed_origins`).

A preflight carries no client id, so it is answered for an origin some client
registered; the request that follows is then checked against its own client.
portal.middleware.CorsMiddleware asks this for /o/token/ and /o/revoke_token/.
"""

import base64
import binascii
from urllib.parse import unquote_plus

from ..models import Application

BROWSER_ENDPOINTS = ("/o/token/", "/o/revoke_token/")


def client_id_of(request):
    """The client id a token or revocation request names (Basic, any case, or the form body)."""
    scheme, _, value = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            return unquote_plus(base64.b64decode(value.strip()).decode().partition(":")[0])
        except (binascii.Error, UnicodeDecodeError):
            return None
    if request.method == "POST" and request.content_type == "application/x-www-form-urlencoded":
        return request.POST.get("client_id")
    return None


def origin_allowed_for_client(origin, client_id):
    """Whether `origin` is registered by this client, or (no client id: a preflight) by any client."""
    if "\x00" in origin or (client_id and "\x00" in client_id):
        return False
    clients = Application.objects.exclude(allowed_origins="").exclude(
        client_id=Application.LOGIN_CLIENT_ID
    )
    clients = (
        clients.filter(client_id=client_id)
        if client_id
        else clients.filter(allowed_origins__contains=origin)
    )
    # Exact match: origins are checked and lower-cased when registered (tokens.oauth.services);
    # DOT's own origin_allowed() takes https origins only, so a loopback dev origin never would.
    return any(
        origin in client.allowed_origins.split() for client in clients.only("allowed_origins")[:50]
    )
