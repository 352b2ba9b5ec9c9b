"""Where a request comes from (behind as many trusted proxies as TRUSTED_PROXY_COUNT says),
and whether it wants a whole page or an htmx fragment."""

import ipaddress

from django.conf import settings
from django.shortcuts import render
from django.utils.cache import patch_vary_headers


def header_key(name):
    """Where a response's header store keeps header `name`. The writers of headers on every API
    answer (the scope headers, the RateLimit headers) store a ready-made `(name, value)` entry
    there themselves, for values that are ASCII by construction: no call, and no charset check
    of each value as `response[name] = value` runs (~0.6 µs apiece)
    (tokens/internals.py › django-response-header-store)."""
    return name.lower()


def no_store(response):
    """A page that shows a secret: no cache, shared or the browser's own, may keep it."""
    response["Cache-Control"] = "no-store"
    return response


def client_ip_from_meta(meta):
    """The client's address: REMOTE_ADDR, or with N trusted proxies in front, the address the
    outermost of them saw (the Nth from the right in X-Forwarded-For; the ones further left
    are whatever the client chose to send, so they are never believed)."""
    count = settings.TRUSTED_PROXY_COUNT
    if count:
        forwarded = [
            part.strip() for part in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()
        ]
        if len(forwarded) >= count:
            try:
                return str(ipaddress.ip_address(forwarded[-count]))
            except ValueError:
                pass
    return meta.get("REMOTE_ADDR") or None


def client_ip(request):
    return client_ip_from_meta(request.META)


def wants_fragment(request):
    """htmx asked for a piece of the page (a history restore or boosted link wants the whole page)."""
    return (
        bool(request.htmx) and not request.htmx.history_restore_request and not request.htmx.boosted
    )


def render_page_or_fragment(request, page, fragment, context, status=200):
    response = render(
        request, fragment if wants_fragment(request) else page, context, status=status
    )
    # The same URL answers a page or a fragment: caches must keep them apart.
    patch_vary_headers(response, ("HX-Request",))
    if status == 400:
        mark_form_errors(response)
    return response


# A 400 that is a form re-rendered with its errors, to be swapped in place like any answer
# (the htmx-config meta in base.html swaps 400s). django-htmx's DEBUG script would otherwise
# replace the whole document with it, taking it for an error page; static/js/credentials.js
# keeps that script away from responses carrying this header.
FORM_ERRORS_HEADER = "X-Form-Errors"


def mark_form_errors(response):
    response[FORM_ERRORS_HEADER] = "true"
    return response


# The parameter that carries an admin page (with its filters) to come back to after acting on
# one of its rows elsewhere, e.g. revoking a credential from the inventory.
RETURN_PARAMETER = "return"


def return_url(request):
    """The admin page of this organization the request asks to return to, or "".

    Only a path under the organization's own admin area is accepted, so the parameter can
    never send anyone to another site or another organization (an open redirect)."""
    value = request.POST.get(RETURN_PARAMETER) or request.GET.get(RETURN_PARAMETER) or ""
    prefix = f"/orgs/{request.organization.public_id}/admin/"
    if not value.startswith(prefix) or "\\" in value or any(ord(c) < 32 for c in value):
        return ""
    return value
