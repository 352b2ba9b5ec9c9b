"""`credential.rotation_idle`: announced once when a rotation's previous secret has sent nothing
for ROTATION_IDLE_SECONDS, never while it is still in use."""

import datetime as dt

import pytest
from django.utils import timezone

from tests.factories import bearer, issue, make_api_key
from tokens import lifecycle
from tokens.api_keys import services as api_key_services
from tokens.personal import services
from tokens.usage import counter
from tokens.usage.rotation import announce_idle

pytestmark = pytest.mark.django_db


@pytest.fixture
def emitted():
    events = []

    def emitter(organization, event_type, payload):
        if event_type in lifecycle.ANNOUNCED_ACTIONS.values():
            return  # what every write announces (tests/chats); here, what the workers emit
        events.append((event_type, payload["credential"]["kind"], payload["credential"]["id"]))

    lifecycle.connect(emitter)
    yield events
    lifecycle.disconnect(emitter)


def test_an_idle_previous_secret_is_announced_once(dev, emitted):
    token, _old = issue(dev, scopes=["read.me"])
    new = services.rotate_token(token=token, grace="7d", by=dev).credential
    later = timezone.now() + dt.timedelta(hours=2)
    announce_idle(now=later)
    announce_idle(now=later + dt.timedelta(minutes=5))
    assert emitted == [("credential.rotation_idle", "personal", new.pk)]


def test_a_previous_secret_still_in_use_is_not_announced(api, dev, emitted):
    token, old = issue(dev, scopes=["read.me"])
    services.rotate_token(token=token, grace="7d", by=dev)
    api.get("/api/v1/me", **bearer(old))
    counter.flush()
    announce_idle(now=timezone.now() + dt.timedelta(minutes=30))
    assert emitted == []


def test_nothing_is_announced_before_the_idle_time_has_passed(dev, emitted):
    token, _old = issue(dev, scopes=["read.me"])
    services.rotate_token(token=token, grace="7d", by=dev)
    announce_idle(now=timezone.now())
    assert emitted == []


def test_an_api_keys_idle_previous_secret_is_announced(alice, emitted):
    key, _old = make_api_key(alice, scopes=["read.me"])
    api_key_services.rotate_api_key(key=key, grace="7d", by=alice)
    announce_idle(now=timezone.now() + dt.timedelta(hours=2))
    assert emitted == [("credential.rotation_idle", "api_key", key.pk)]
