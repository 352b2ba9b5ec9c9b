"""Webhook deliveries: signed POSTs to addresses that are allowed, retried with backoff.

Every attempt claims its delivery row with one conditional UPDATE (a lease), so two
workers, or a worker and the retry sweep, never send the same attempt twice and no
database transaction stays open while a receiver thinks. A 2xx delivers; a timeout,
a connection error, a 429 or a 5xx is tried again with exponential backoff until the
retry window (WEBHOOK_RETRY_WINDOW, 3 days by default) closes; anything else fails
at once (the receiver said no).
"""

import datetime
import hashlib
import hmac
import http.client
import ipaddress
import logging
import socket
import time
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone

from accounts.errors import Refused
from lib.tasks import enqueue_on_commit, task
from tokens import sealing

from .models import WebhookDelivery

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "Keyward-Signature"
TIMEOUT_SECONDS = 10
FIRST_RETRY = datetime.timedelta(minutes=1)
LONGEST_WAIT = datetime.timedelta(hours=6)
# An attempt holds its row this long; a worker that dies mid-attempt is retried after it.
LEASE = datetime.timedelta(seconds=TIMEOUT_SECONDS + 50)
RESPONSE_READ_LIMIT = 64 * 1024


def retry_window():
    return getattr(settings, "WEBHOOK_RETRY_WINDOW", datetime.timedelta(days=3))


def sign(secret, timestamp, body):
    """`t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">`: the timestamp is signed, so receivers
    can refuse a replayed delivery by its age."""
    if isinstance(body, str):
        body = body.encode()
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def backoff(attempts):
    """The wait after the `attempts`-th failed attempt: 1, 2, 4 … minutes, at most 6 hours."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_WAIT)


# Addresses


def private_addresses_allowed():
    return bool(getattr(settings, "WEBHOOK_ALLOW_PRIVATE_ADDRESSES", False))


# IPv6 ranges whose last 32 bits are an IPv4 address that a host stack or a translator reaches:
# IPv4-mapped and IPv4-compatible (RFC 4291 §2.5.5), IPv4-translated (RFC 2765), and NAT64's
# well-known prefix (RFC 6052). Python's is_global calls most of them global whatever they carry.
_IPV4_IN_LAST_32_BITS = tuple(
    ipaddress.ip_network(net)
    for net in ("::ffff:0:0/96", "::/96", "::ffff:0:0:0/96", "64:ff9b::/96")
)
# RFC 8215's local-use NAT64 prefix may be any length, so where it carries the IPv4 is unknown.
_IPV4_SOMEWHERE = ipaddress.ip_network("64:ff9b:1::/48")
# ISATAP (RFC 5214 §6.1): an interface identifier of 0000:5efe or 0200:5efe, then an IPv4.
_ISATAP_MARKERS = (0x00005EFE, 0x02005EFE)


def embedded_ipv4(ip):
    """The IPv4 address an IPv6 address reaches through a translator or tunnel, else None."""
    if any(ip in net for net in _IPV4_IN_LAST_32_BITS):
        return ipaddress.IPv4Address(ip.packed[-4:])
    return ip.sixtofour  # 2002::/16 (RFC 3056): the IPv4 follows the first 16 bits


def is_public(address):
    """Whether `address` (an IP literal, IPv6 zone allowed) is on the public internet; an IPv6
    address that stands for an IPv4 one is judged by that IPv4, which is where it leads."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _IPV4_SOMEWHERE:
            return False
        carried = embedded_ipv4(ip)
        if carried is not None:
            ip = carried
        elif (int(ip) >> 32) & 0xFFFFFFFF in _ISATAP_MARKERS and not is_public(
            str(ipaddress.IPv4Address(ip.packed[-4:]))
        ):
            return False  # the site's ISATAP router forwards to the IPv4: both must be public
    return ip.is_global and not ip.is_multicast


def resolve(host, port):
    """Every address `host` resolves to (IP literals resolve to themselves)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def allowed_schemes():
    return ("https", "http") if getattr(settings, "WEBHOOK_ALLOW_HTTP", False) else ("https",)


def check_url(url):
    """Refuse (400 webhook_url_not_allowed) a URL of a scheme other than https (and http where
    WEBHOOK_ALLOW_HTTP allows it), or whose host resolves to a loopback, private, link-local or
    otherwise non-public address, unless WEBHOOK_ALLOW_PRIVATE_ADDRESSES.

    A host that does not resolve yet passes: DNS can change, so each delivery checks again."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in allowed_schemes():
        raise Refused(
            "webhook_url_not_allowed",
            "Webhook URLs must use https://."
            if "http" not in allowed_schemes()
            else "Webhook URLs must use https:// or http://.",
            "url",
        )
    if private_addresses_allowed():
        return url
    try:
        addresses = resolve(parts.hostname or "", parts.port or 443)
    except (OSError, UnicodeError, ValueError):
        return url
    if not all(is_public(a) for a in addresses):
        raise Refused(
            "webhook_url_not_allowed",
            "Webhook URLs may not point at loopback, private or link-local addresses.",
            "url",
        )
    return url


class AddressNotAllowed(Exception):
    pass


def timeout_seconds():
    return getattr(settings, "WEBHOOK_TIMEOUT_SECONDS", TIMEOUT_SECONDS)


def post(url, body, headers):
    """POST `body`; returns (status, milliseconds). Connects to the very address that was checked,
    so a DNS answer that changes between the check and the connection cannot slip through."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in allowed_schemes():
        raise AddressNotAllowed(f"{parts.scheme}:// URLs are not allowed")
    https = parts.scheme.lower() == "https"
    port = parts.port or (443 if https else 80)
    addresses = resolve(parts.hostname, port)
    if not private_addresses_allowed():
        addresses = [a for a in addresses if is_public(a)]
        if not addresses:
            raise AddressNotAllowed(f"{parts.hostname} resolves to no public address")
    connection_class = http.client.HTTPSConnection if https else http.client.HTTPConnection
    connection = connection_class(parts.hostname, port, timeout=timeout_seconds())
    pinned = addresses[0]
    connection._create_connection = lambda _address, *args: socket.create_connection(
        (pinned, port), *args
    )
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    started = time.monotonic()
    try:
        connection.request("POST", path, body=body.encode(), headers=headers)
        response = connection.getresponse()
        response.read(RESPONSE_READ_LIMIT)
        return response.status, round((time.monotonic() - started) * 1000)
    finally:
        connection.close()


# Attempts


def claim(delivery_id, now):
    """Take the next attempt of a due delivery; False when it is not due or someone else has it."""
    return bool(
        WebhookDelivery.objects.due(now).filter(pk=delivery_id).update(next_attempt_at=now + LEASE)
    )


def attempt(delivery_id, *, now=None):
    """One attempt of a due delivery (nothing when it is not due or already taken); returns the row."""
    now = now or timezone.now()
    if not claim(delivery_id, now):
        return None
    delivery = WebhookDelivery.objects.select_related("webhook", "event").get(pk=delivery_id)
    timestamp = int(now.timestamp())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Keyward-Webhooks/1",
        "Keyward-Event": delivery.event.type,
        "Keyward-Delivery": str(delivery.pk),
        SIGNATURE_HEADER: sign(
            sealing.unseal(delivery.webhook.sealed_secret), timestamp, delivery.event.body
        ),
    }
    status, milliseconds, error, retry = None, None, "", True
    try:
        status, milliseconds = post(delivery.webhook.url, delivery.event.body, headers)
    except AddressNotAllowed as exc:
        error, retry = str(exc), False
    except (ValueError, UnicodeError):
        error, retry = "the URL cannot be called (bad host or port)", False
    except TimeoutError:
        error = "timed out"
    except (OSError, http.client.HTTPException) as exc:
        error = f"connection failed: {type(exc).__name__}"
    except Exception:  # a bug must not leave the row leased forever: it is retried, then given up
        log.exception("webhook delivery %s failed unexpectedly", delivery.pk)
        error = "internal error"
    return _record(
        delivery, now, status=status, milliseconds=milliseconds, error=error, retry=retry
    )


def _record(delivery, now, *, status, milliseconds, error, retry):
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.response_status, delivery.response_ms, delivery.last_error = (
        status,
        milliseconds,
        error[:200],
    )
    delivery.next_attempt_at = None
    if status is not None and 200 <= status < 300:
        delivery.status, delivery.delivered_at = WebhookDelivery.Status.SUCCEEDED, now
    elif status is not None and status != 429 and status < 500:
        delivery.status = (
            WebhookDelivery.Status.FAILED
        )  # the receiver refused it: asking again changes nothing
    elif retry and now + backoff(delivery.attempts) <= delivery.retry_until:
        delivery.status, delivery.next_attempt_at = (
            WebhookDelivery.Status.PENDING,
            now + backoff(delivery.attempts),
        )
    else:
        delivery.status = WebhookDelivery.Status.FAILED
    delivery.save(
        update_fields=[
            "attempts",
            "last_attempt_at",
            "response_status",
            "response_ms",
            "last_error",
            "next_attempt_at",
            "status",
            "delivered_at",
        ]
    )
    log.info(
        "webhook delivery %s to webhook %s: attempt %s, %s %s",
        delivery.pk,
        delivery.webhook_id,
        delivery.attempts,
        status or error,
        delivery.status,
    )
    return delivery


def due_ids(now=None, limit=500):
    """Deliveries whose next attempt is due (or whose attempt's lease ran out)."""
    now = now or timezone.now()
    return list(
        WebhookDelivery.objects.due(now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )


def redeliver(delivery, *, now=None):
    """Send again now, with a fresh retry window (the count of attempts goes on)."""
    now = now or timezone.now()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=WebhookDelivery.Status.PENDING, next_attempt_at=now, retry_until=now + retry_window()
    )
    delivery.refresh_from_db()
    enqueue_on_commit(deliver, delivery.pk)
    return delivery


# Tasks


@task()
def deliver(delivery_id):
    """Attempt one delivery; when it must be tried again, queue that attempt for its time."""
    delivery = attempt(delivery_id)
    if delivery is not None and delivery.status == WebhookDelivery.Status.PENDING:
        schedule_retry(delivery)


def schedule_retry(delivery):
    """A backend that can defer runs the retry on time; otherwise the retry sweep picks it up."""
    if deliver.get_backend().supports_defer:
        enqueue_on_commit(deliver.using(run_after=delivery.next_attempt_at), delivery.pk)


def retry_due(*, now=None):
    """The scheduler's job: attempt every due delivery (lost tasks, backends that cannot defer)."""
    due = due_ids(now)
    for delivery_id in due:
        delivery = attempt(delivery_id, now=now)
        if delivery is not None and delivery.status == WebhookDelivery.Status.PENDING:
            schedule_retry(delivery)
    return f"{len(due)} due webhook deliveries attempted"
