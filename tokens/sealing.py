"""Encryption at rest for the few secrets Keyward must read back (webhook signing secrets,
API key secrets that verify caller-signed JWTs). Everything else keeps only a digest.

Keys come from SECRET_ENCRYPTION_KEYS (Fernet keys, newest first, so a new key can be
added in front and old rows re-sealed); without it one key is derived from SECRET_KEY.
"""

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@lru_cache(maxsize=4)
def _fernet(keys, secret_key):
    if not keys:
        derived = hashlib.sha256(b"keyward-sealing:" + secret_key.encode()).digest()
        keys = (base64.urlsafe_b64encode(derived).decode(),)
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError:
        raise ImproperlyConfigured(
            "SECRET_ENCRYPTION_KEYS must be comma-separated Fernet keys (32 url-safe base64 bytes)."
        ) from None


def _box():
    return _fernet(tuple(settings.SECRET_ENCRYPTION_KEYS), settings.SECRET_KEY)


def seal(plaintext):
    return _box().encrypt(plaintext.encode()).decode()


def unseal(sealed):
    try:
        return _box().decrypt(sealed.encode()).decode()
    except InvalidToken:
        raise ImproperlyConfigured(
            "A sealed secret cannot be opened with SECRET_ENCRYPTION_KEYS."
        ) from None
