"""The attacker's webhook URLs: every address form that reaches a private network (SSRF) is
refused when a webhook is created or changed, and again at delivery, since DNS can change.

The table is the spec: one row per form. IPv6 forms that carry an IPv4 address (mapped,
IPv4-compatible, IPv4-translated, NAT64, 6to4, ISATAP) are judged by the IPv4 they carry.
"""

import pytest

from chats import deliveries
from chats.models import Webhook
from tests.factories import bearer, issue

pytestmark = pytest.mark.django_db

PRIVATE = {
    "IPv4 loopback": "http://127.0.0.1:8080/h",
    "loopback name": "http://localhost/h",
    "IPv4 private 10/8": "http://10.1.2.3/h",
    "IPv4 private 192.168/16": "http://192.168.0.5/h",
    "cloud metadata (link-local)": "http://169.254.169.254/latest/meta-data",
    "carrier-grade NAT": "http://100.64.0.1/h",
    "unspecified": "http://0.0.0.0/h",
    "IPv6 loopback": "http://[::1]/h",
    "IPv6 unspecified": "http://[::]/h",
    "IPv6 link-local": "http://[fe80::1]/h",
    "IPv6 unique local": "http://[fd00::1]/h",
    "IPv4-mapped loopback": "http://[::ffff:127.0.0.1]/h",
    "IPv4-mapped metadata": "http://[::ffff:a9fe:a9fe]/h",
    "IPv4-compatible loopback (::/96)": "http://[::7f00:1]/h",
    "IPv4-compatible private (::/96)": "http://[::10.1.2.3]/h",
    "IPv4-translated loopback (::ffff:0:0:0/96)": "http://[::ffff:0:7f00:1]/h",
    "NAT64 loopback (64:ff9b::/96)": "http://[64:ff9b::7f00:1]/h",
    "NAT64 metadata (64:ff9b::/96)": "http://[64:ff9b::169.254.169.254]/h",
    "local-use NAT64 (64:ff9b:1::/48)": "http://[64:ff9b:1::a00:1]/h",
    "6to4 loopback (2002::/16)": "http://[2002:7f00:1::1]/h",
    "6to4 private (2002::/16)": "http://[2002:c0a8:5::1]/h",
    "Teredo (2001::/32)": "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/h",
    "ISATAP carrying a private IPv4": "http://[2600::5efe:a00:1]/h",
}

# Forms that carry a public IPv4 reach the public internet: judged by that address, allowed.
PUBLIC = {
    "IPv4": "https://93.184.215.14/h",
    "IPv4-mapped": "https://[::ffff:93.184.215.14]/h",
    "NAT64 (64:ff9b::/96)": "https://[64:ff9b::93.184.215.14]/h",
    "6to4 (2002::/16)": "https://[2002:5db8:d70e::1]/h",
}


@pytest.fixture
def admin_secret(alice, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    _token, secret = issue(alice, scopes=["admin"])
    return secret


def create(api, secret, url):
    return api.post(
        "/api/v1/webhooks",
        {"url": url, "eventCategories": ["credentials"]},
        format="json",
        **bearer(secret),
    )


@pytest.mark.parametrize("form", list(PRIVATE))
def test_webhook_url_reaching_a_private_network_is_refused_at_creation(api, admin_secret, form):
    response = create(api, admin_secret, PRIVATE[form])
    assert (response.status_code, response.json()["code"]) == (400, "webhook_url_not_allowed")
    assert not Webhook.objects.exists()


@pytest.mark.parametrize("form", list(PRIVATE))
def test_webhook_url_reaching_a_private_network_is_refused_on_change(api, admin_secret, form):
    hook = create(api, admin_secret, PUBLIC["IPv4"]).json()["id"]
    response = api.patch(
        f"/api/v1/webhooks/{hook}", {"url": PRIVATE[form]}, format="json", **bearer(admin_secret)
    )
    assert (response.status_code, response.json()["code"]) == (400, "webhook_url_not_allowed")
    assert Webhook.objects.get(pk=hook).url == PUBLIC["IPv4"]


@pytest.mark.parametrize("form", list(PRIVATE))
def test_delivery_to_a_private_network_is_refused_without_connecting(settings, form):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.5  # should the check fail, fail fast
    with pytest.raises(deliveries.AddressNotAllowed):
        deliveries.post(PRIVATE[form], "{}", {})


@pytest.mark.parametrize("form", list(PUBLIC))
def test_address_form_carrying_a_public_ipv4_is_accepted(api, admin_secret, form):
    response = create(api, admin_secret, PUBLIC[form])
    assert response.status_code == 201, response.json()
