"""Where a request comes from, behind as many trusted proxies as TRUSTED_PROXY_COUNT says."""

import ipaddress

from django.conf import settings


def client_ip_from_meta(meta):
    """The client's address: REMOTE_ADDR, or with N trusted proxies in front, the address the
    outermost of them saw (the Nth from the right in X-Forwarded-For; the ones further left
    are whatever the client chose to send, so they are never believed)."""
    count = settings.TRUSTED_PROXY_COUNT
    if count:
        forwarded = [part.strip() for part in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= count:
            try:
                return str(ipaddress.ip_address(forwarded[-count]))
            except ValueError:
                pass
    return meta.get("REMOTE_ADDR") or None


def client_ip(request):
    return client_ip_from_meta(request.META)
