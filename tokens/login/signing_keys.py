"""The keys that sign login tokens (JWTs), and the public JWK set that verifies them.

Ed25519 ("EdDSA", RFC 8037): small keys, fast signing, verified by PyJWT, jwcrypto
and the usual JOSE libraries. Private keys live in the database, sealed with
tokens.sealing (SECRET_ENCRYPTION_KEYS, or a key derived from SECRET_KEY), so every
Keyward process signs with the same key and a fresh machine needs no set-up: the
first login creates a key.

Rotation with lead time: `manage.py rotate_signing_key` adds a *next* key,
published in the JWKS at once but signing only JWKS_MAX_AGE_SECONDS later, so a verifier
that cached the JWKS just before it appeared has refetched before it meets a token the
new key signed. From that moment the previous key signs no more; it stays published for
one access-token lifetime (plus RETIRED_KEY_SLACK) after that last signature. Every
process picks the signing key from the database by the same clock, so the switch needs
no coordination; `--immediately` is for a compromised key only.
"""

import base64
import datetime
import hashlib
import json
import logging
from functools import lru_cache

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from jwt.algorithms import OKPAlgorithm

from .. import sealing
from ..models import SigningKey

log = logging.getLogger(__name__)

ALGORITHM = "EdDSA"
# How long verifiers may cache /.well-known/jwks.json (its Cache-Control max-age), and so
# how long a new key is published before it signs.
JWKS_MAX_AGE_SECONDS = 300
# Signatures in flight when a key is retired, and verifiers' clock skew.
RETIRED_KEY_SLACK = datetime.timedelta(seconds=60)


def _thumbprint(jwk):
    """RFC 7638 JWK thumbprint: a stable, content-derived key id."""
    members = {name: jwk[name] for name in ("crv", "kty", "x")}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()


@transaction.atomic
def create_key(*, retire_others=False, lead=None):
    """A new signing key, published now and signing after `lead` (a timedelta; at once by
    default); with `retire_others`, every other key stops signing now (emergencies only)."""
    private_key = Ed25519PrivateKey.generate()
    jwk = OKPAlgorithm.to_jwk(private_key.public_key(), as_dict=True)
    kid = _thumbprint(jwk)
    pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    now = timezone.now()
    if retire_others:
        SigningKey.objects.filter(retired_at__isnull=True).update(retired_at=now)
    key = SigningKey.objects.create(
        kid=kid,
        algorithm=ALGORITHM,
        public_jwk={**jwk, "kid": kid, "alg": ALGORITHM, "use": "sig"},
        sealed_private_key=sealing.seal(pem),
        created_at=now,
        activates_at=now + (lead or datetime.timedelta(0)),
    )
    log.info("login signing key %s created; signs from %s", kid, key.activates_at.isoformat())
    return key


@transaction.atomic
def rotate(*, immediately=False):
    """Publish the next signing key; it signs after one JWKS cache lifetime.

    Safe to run twice: while a next key waits to sign, it is returned, not doubled.
    `immediately` signs with a new key at once and retires every other (a compromised
    key): verifiers holding a cached JWKS refuse the new tokens until they refetch it.
    """
    now = timezone.now()
    if immediately:
        return create_key(retire_others=True)
    # Rotations queue on the newest key's row, so two at once cannot both add a key.
    list(SigningKey.objects.select_for_update().order_by("-created_at", "-id")[:1])
    waiting = (
        SigningKey.objects.filter(retired_at__isnull=True, activates_at__gt=now)
        .order_by("-activates_at")
        .first()
    )
    if waiting is not None:
        return waiting
    return create_key(lead=datetime.timedelta(seconds=JWKS_MAX_AGE_SECONDS))


@lru_cache(maxsize=16)
def _private_key(kid, sealed):
    # Keyed by the sealed text too, so a re-sealed row never serves a stale object.
    return serialization.load_pem_private_key(sealing.unseal(sealed).encode(), password=None)


def current_key():
    """(kid, private key) of the newest key that signs now; the first call on a fresh database makes one.

    When a next key's time has come, the keys before it are retired as of that moment
    (their last signature), which starts their last access-token lifetime in the JWKS.
    """
    now = timezone.now()
    active = list(
        SigningKey.objects.filter(retired_at__isnull=True, activates_at__lte=now).order_by(
            "-activates_at", "-id"
        )[:2]
    )
    if not active:
        key = create_key()
    else:
        key = active[0]
        if len(active) > 1:
            retired = (
                SigningKey.objects.filter(retired_at__isnull=True, activates_at__lte=now)
                .exclude(pk=key.pk)
                .update(retired_at=key.activates_at)
            )
            log.info("login signing key %s signs now; %s older key(s) retired", key.kid, retired)
    try:
        return key.kid, _private_key(key.kid, key.sealed_private_key)
    except ImproperlyConfigured:
        # SECRET_KEY or SECRET_ENCRYPTION_KEYS changed: the old key cannot sign any more,
        # but its public half still verifies what it signed. Start a new one.
        log.warning("login signing key %s cannot be unsealed; rotating to a new key", key.kid)
        key = create_key(retire_others=True)
        return key.kid, _private_key(key.kid, key.sealed_private_key)


def sign(claims):
    """A JWT of `claims`, signed with the current key and naming it in `kid`."""
    kid, private_key = current_key()
    return jwt.encode(claims, private_key, algorithm=ALGORITHM, headers={"kid": kid})


def published_keys(now=None):
    """Keys that sign or will sign, and retired keys whose last tokens may still be alive."""
    now = now or timezone.now()
    horizon = (
        now
        - datetime.timedelta(seconds=settings.LOGIN_ACCESS_TOKEN_LIFETIME_SECONDS)
        - RETIRED_KEY_SLACK
    )
    return SigningKey.objects.filter(Q(retired_at__isnull=True) | Q(retired_at__gt=horizon))


def jwks():
    """The public JWK set (RFC 7517), newest key first."""
    return {"keys": [key.public_jwk for key in published_keys()]}
