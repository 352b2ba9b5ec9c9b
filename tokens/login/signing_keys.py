"""The keys that sign login tokens (JWTs), and the public JWK set that verifies them.

Ed25519 ("EdDSA", RFC 8037): small keys, fast signing, verified by PyJWT, jwcrypto
and the usual JOSE libraries. Private keys live in the database, sealed with
tokens.sealing (SECRET_ENCRYPTION_KEYS, or a key derived from SECRET_KEY), so every
Keyward process signs with the same key and a fresh machine needs no set-up: the
first login creates a key. `manage.py rotate_signing_key` adds a new key; the old
one stops signing at once and stays published until the tokens it signed expire.
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


def _thumbprint(jwk):
    """RFC 7638 JWK thumbprint: a stable, content-derived key id."""
    members = {name: jwk[name] for name in ("crv", "kty", "x")}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()


@transaction.atomic
def create_key(*, retire_others=False):
    """A new signing key; with `retire_others`, it becomes the only one that signs."""
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
    )
    log.info("login signing key %s created", kid)
    return key


@lru_cache(maxsize=16)
def _private_key(kid, sealed):
    # Keyed by the sealed text too, so a re-sealed row never serves a stale object.
    return serialization.load_pem_private_key(sealing.unseal(sealed).encode(), password=None)


def current_key():
    """(kid, private key) of the newest key that signs; the first call on a fresh database makes one."""
    key = SigningKey.objects.filter(retired_at__isnull=True).order_by("-created_at", "-id").first()
    if key is None:
        key = create_key()
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
    """Keys that sign, and retired keys whose last tokens may still be alive."""
    now = now or timezone.now()
    horizon = now - datetime.timedelta(seconds=settings.LOGIN_ACCESS_TOKEN_LIFETIME_SECONDS)
    return SigningKey.objects.filter(Q(retired_at__isnull=True) | Q(retired_at__gt=horizon))


def jwks():
    """The public JWK set (RFC 7517), newest key first."""
    return {"keys": [key.public_jwk for key in published_keys()]}
