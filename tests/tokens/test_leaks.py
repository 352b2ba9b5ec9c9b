"""GitHub secret scanning reports: signed with a local ECDSA P-256 key, they revoke live secrets."""

import base64
import datetime
import json

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.core import mail
from django.utils import timezone

from tests.factories import bearer, issue, login_pair, make_api_key, make_client
from tests.tokens.oauth.helpers import basic, grant, post_form
from tokens import lifecycle, secret_format
from tokens.models import AccessToken, ApiKey, AuditEvent
from tokens.personal import services as personal_services

URL = "/api/v1/secret-scanning/reports"
KEY_ID = "90a421169f0a406205f1563a953312f0be898d3c7b6c06b681aa86a874555f4a"


@pytest.fixture(scope="module")
def github_key():
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture
def scanning(settings, github_key):
    pem = (
        github_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    settings.SECRET_SCANNING_PUBLIC_KEYS = {KEY_ID: pem}
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def emitted():
    events = []

    def emitter(organization, event_type, payload):
        if event_type in lifecycle.ANNOUNCED_ACTIONS.values():
            return  # what every write announces (tests/chats); here, what the workers emit
        events.append((organization.pk, event_type, payload))

    lifecycle.connect(emitter)
    yield events
    lifecycle.disconnect(emitter)


def sign(key, body):
    return base64.b64encode(key.sign(body, ec.ECDSA(hashes.SHA256()))).decode()


def report(*tokens, url="https://github.com/acme/app/blob/main/.env", source="content"):
    return json.dumps(
        [
            {"token": t, "type": "keyward_personal_access_token", "url": url, "source": source}
            for t in tokens
        ]
    ).encode()


def post(api, body, *, key=None, key_id=KEY_ID, signature=None):
    headers = {}
    if key is not None or signature is not None:
        headers = {
            "HTTP_GITHUB_PUBLIC_KEY_IDENTIFIER": key_id,
            "HTTP_GITHUB_PUBLIC_KEY_SIGNATURE": signature or sign(key, body),
        }
    return api.generic("POST", URL, body, content_type="application/json", **headers)


def test_a_signed_report_of_a_live_personal_token_revokes_it_and_tells_owner_and_admins(
    scanning, github_key, api, dev, alice, emitted, django_capture_on_commit_callbacks
):
    token, secret = issue(dev, name="CI deploys", scopes=("read.me",))
    assert api.get("/api/v1/me", **bearer(secret)).status_code == 200
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = post(api, report(secret, "kw_pat_garbage"), key=github_key)

    assert response.status_code == 200, response.content
    assert response.json() == [
        {
            "token_hash": secret_format.digest(secret),
            "token_type": "keyward_personal_access_token",
            "label": "true_positive",
            "outcome": "revoked",
        },
        {
            "token_hash": secret_format.digest("kw_pat_garbage"),
            "token_type": "keyward_personal_access_token",
            "label": "false_positive",
            "outcome": "unknown",
        },
    ]
    refused = api.get("/api/v1/me", **bearer(secret))
    assert refused.status_code == 401 and refused.json()["code"] == "token_revoked"

    leaked = AuditEvent.objects.get(action=AuditEvent.Action.LEAKED)
    assert leaked.credential_id == token.pk and leaked.credential_last4 == token.last4
    assert "https://github.com/acme/app/blob/main/.env (content)" in leaked.detail
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.REVOKED, credential_id=token.pk
    ).exists()

    assert sorted(m.to[0] for m in mail.outbox) == ["alice@acme.test", "dev@acme.test"]
    for message in mail.outbox:
        assert "CI deploys" in message.subject and "revoked" in message.subject
        assert "https://github.com/acme/app/blob/main/.env" in message.body
        assert secret not in message.body and secret not in message.alternatives[0][0]
    assert [(e[1], e[2]["credential"]["id"], e[2]["url"]) for e in emitted] == [
        ("credential.leaked", token.pk, "https://github.com/acme/app/blob/main/.env")
    ]


@pytest.mark.parametrize(
    "headers",
    [
        {},  # unsigned
        {"signature": "bm90IGEgc2lnbmF0dXJl"},  # not a signature
        {"key_id": "unknown-key"},  # signed, but by a key we do not know
    ],
)
def test_an_unsigned_or_badly_signed_report_is_refused_and_changes_nothing(
    scanning, github_key, api, dev, headers
):
    token, secret = issue(dev)
    key = github_key if "key_id" in headers else None
    response = post(api, report(secret), key=key, **headers)
    assert response.status_code == 401
    assert set(response.json()) >= {"code", "detail"}
    token.refresh_from_db()
    assert token.revoked_at is None
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.LEAKED).exists()
    assert api.get("/api/v1/me", **bearer(secret)).status_code == 200


def test_a_signature_over_other_bytes_is_refused(scanning, github_key, api, dev):
    _token, secret = issue(dev)
    response = post(
        api, report(secret), signature=sign(github_key, report(secret, url="elsewhere"))
    )
    assert response.status_code == 401
    assert api.get("/api/v1/me", **bearer(secret)).status_code == 200


def test_every_kind_of_secret_is_recognised_and_revoked(scanning, github_key, api, dev, alice, bot):
    _key, key_secret = make_api_key(alice, scopes=("read.chats",))
    pair = login_pair(dev)
    jwt, refresh = pair.token.reveal(), pair.refresh_secret.reveal()
    other = login_pair(dev)
    other_refresh = other.refresh_secret.reveal()
    body = report(key_secret, jwt, other_refresh, "not a token at all", "")
    response = post(api, body, key=github_key)
    assert [a["label"] for a in response.json()] == [
        "true_positive",
        "true_positive",
        "true_positive",
        "false_positive",
        "false_positive",
    ]
    assert [a["token_type"] for a in response.json()][:3] == [
        "keyward_api_key_secret",
        "keyward_login_token",
        "keyward_refresh_token",
    ]
    assert ApiKey.objects.get().revoked_at is not None
    assert api.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {jwt}").status_code == 401
    assert AccessToken.objects.get(pk=other.access_token.pk).revoked_at is not None
    # Reported again, a dead secret is still a real one; nothing more is revoked.
    again = post(api, report(key_secret), key=github_key).json()
    assert (again[0]["label"], again[0]["outcome"]) == ("true_positive", "already_inactive")
    # The first session's refresh token ended with its JWT.
    ended = post(api, report(refresh), key=github_key).json()[0]
    assert (ended["label"], ended["outcome"]) == ("true_positive", "already_inactive")


def test_oauth_access_and_refresh_tokens_revoke_their_grant(scanning, github_key, api, dev):
    application, client_secret = make_client(dev)
    first = grant(dev, application, client_secret)
    second = grant(dev, application, client_secret)
    response = post(
        api, report(first["access_token"], second["refresh_token"]), key=github_key
    ).json()
    assert [(a["token_type"], a["label"]) for a in response] == [
        ("keyward_oauth_access_token", "true_positive"),
        ("keyward_refresh_token", "true_positive"),
    ]
    for body in (first, second):
        refused = api.get("/api/v1/me", **bearer(body["access_token"]))
        assert refused.status_code == 401 and refused.json()["code"] == "token_revoked"
    assert post(api, report(client_secret), key=github_key).json()[0]["label"] == "false_positive"


def test_a_reported_secret_that_was_already_revoked_is_a_true_positive_and_changes_nothing(
    scanning, github_key, api, dev, emitted
):
    token, secret = issue(dev)
    personal_services.revoke_token(token=token, by=dev)
    mail.outbox.clear()
    answer = post(api, report(secret), key=github_key).json()
    assert answer == [
        {
            "token_hash": secret_format.digest(secret),
            "token_type": "keyward_personal_access_token",
            "label": "true_positive",
            "outcome": "already_inactive",
        }
    ]
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.LEAKED).exists()
    assert mail.outbox == [] and emitted == []


def test_a_secret_revoked_by_an_earlier_line_of_the_same_report_is_a_true_positive(
    scanning, github_key, api, dev, emitted
):
    application, client_secret = make_client(dev)
    body = grant(dev, application, client_secret)
    response = post(
        api,
        report(body["access_token"], body["refresh_token"], body["access_token"]),
        key=github_key,
    ).json()
    assert [(a["label"], a["outcome"]) for a in response] == [
        ("true_positive", "revoked"),
        ("true_positive", "already_inactive"),
        ("true_positive", "already_inactive"),
    ]
    assert AuditEvent.objects.filter(action=AuditEvent.Action.LEAKED).count() == 1
    assert [event_type for _org, event_type, _payload in emitted] == ["credential.leaked"]


def test_a_replayed_report_changes_nothing_and_says_so(
    scanning, github_key, api, dev, alice, emitted, django_capture_on_commit_callbacks
):
    _token, personal = issue(dev)
    _key, key_secret = make_api_key(alice)
    pair = login_pair(dev)
    body = report(personal, key_secret, pair.token.reveal(), "kw_pat_garbage")
    with django_capture_on_commit_callbacks(execute=True):
        first = post(api, body, key=github_key).json()
    assert [a["outcome"] for a in first] == ["revoked", "revoked", "revoked", "unknown"]
    events, sent, announced = AuditEvent.objects.count(), len(mail.outbox), len(emitted)
    with django_capture_on_commit_callbacks(execute=True):
        replayed = post(api, body, key=github_key).json()
    assert [(a["label"], a["outcome"]) for a in replayed] == [
        ("true_positive", "already_inactive"),
        ("true_positive", "already_inactive"),
        ("true_positive", "already_inactive"),
        ("false_positive", "unknown"),
    ]
    assert (AuditEvent.objects.count(), len(mail.outbox), len(emitted)) == (events, sent, announced)


def test_a_leaked_oauth_refresh_token_is_revoked_after_its_access_token_expired(
    scanning, github_key, api, dev
):
    application, client_secret = make_client(dev)
    body = grant(dev, application, client_secret)
    AccessToken.objects.filter(token_checksum=secret_format.digest(body["access_token"])).update(
        expires=timezone.now() - datetime.timedelta(minutes=1)
    )
    answer = post(api, report(body["refresh_token"]), key=github_key).json()[0]
    assert (answer["label"], answer["outcome"]) == ("true_positive", "revoked")
    refreshed = post_form(
        "/o/token/",
        {"grant_type": "refresh_token", "refresh_token": body["refresh_token"]},
        **basic(application.client_id, client_secret),
    )
    assert refreshed.status_code == 400 and refreshed.json()["error"] == "invalid_grant"


def test_garbage_is_refused_without_asking_the_database(scanning, github_key, api):
    """No `db` fixture: a single query would fail the test. A connection an earlier test left
    open is closed first, so nothing answers the POST's propagation receipt from it."""
    from django.db import connections

    connections.close_all()
    garbage = [
        "kw_pat_" + "A" * 36,
        "kw_sk_" + "b" * 36,
        "kw_rt_" + "c" * 36,
        "kw_oat_" + "d" * 36,
        "x" * 5000,
    ]
    response = post(api, report(*garbage), key=github_key)
    assert [a["label"] for a in response.json()] == ["false_positive"] * 5


@pytest.mark.parametrize("body", [b"{}", b"not json", b'[{"token": 1}]', b"[1]"])
def test_a_signed_report_that_is_not_an_array_of_items_is_a_400(scanning, github_key, api, body):
    response = post(api, body, key=github_key)
    assert response.status_code == 400
    assert set(response.json()) >= {"code", "detail"}


def test_the_endpoint_is_in_the_openapi_document_without_a_credential(api):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    operation = schema["paths"]["/api/v1/secret-scanning/reports"]["post"]
    assert operation["security"] == [{"githubSecretScanningSignature": []}]
    scheme = schema["components"]["securitySchemes"]["githubSecretScanningSignature"]
    assert scheme["name"] == "GITHUB-PUBLIC-KEY-SIGNATURE"
    assert {"200", "400", "401"} <= set(operation["responses"])


def test_the_leaked_webhook_event_carries_the_same_fields_as_the_other_credential_events(
    scanning, github_key, api, dev, alice, org
):
    from chats import services as chat_services
    from chats.models import WebhookEvent

    chat_services.create_webhook(
        organization=org,
        url="https://hooks.example.com/k",
        event_categories=["credentials"],
        by=alice,
    )
    _token, secret = issue(dev, name="CI deploys", scopes=("read.me",))
    post(api, report(secret), key=github_key)  # deliveries wait for a commit that never comes
    data = {
        event.type: json.loads(event.body)["data"]
        for event in WebhookEvent.objects.filter(organization=org)
    }
    leaked, revoked = data["credential.leaked"], data["credential.revoked"]
    assert set(leaked) == set(revoked) | {"url", "source"}
    assert leaked["credential"] == revoked["credential"]
    assert leaked["credential"]["scopes"] == ["read.me"]
    # GitHub reported it: no Keyward user acted (the revocation is in the owner's name).
    assert leaked["actor"] is None
    assert leaked["detail"] == "found at https://github.com/acme/app/blob/main/.env (content)"
    assert (leaked["url"], leaked["source"]) == (
        "https://github.com/acme/app/blob/main/.env",
        "content",
    )
    assert secret not in json.dumps(leaked)
