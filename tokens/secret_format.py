"""The shape of Keyward's opaque secrets: `kw_<kind>_` + base62 random + base62 CRC32.

The checksum lets a typo or a forged string be refused before the database is
asked, and the prefix makes a leaked secret recognisable by secret scanners.
"""

import hashlib
import importlib
import secrets
import string
import zlib

BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
_BASE62_SET = frozenset(BASE62)
RANDOM_LENGTH = 30  # 30 base62 characters carry 178 random bits (at least 160 asked for)
CHECKSUM_LENGTH = 6  # 62**6 > 2**32, so any CRC32 fits

PERSONAL_TOKEN = "kw_pat_"
REFRESH_TOKEN = "kw_rt_"
OAUTH_TOKEN = "kw_oat_"
API_KEY_ID = "kw_key_"
API_KEY_SECRET = "kw_sk_"
WEBHOOK_SECRET = "kw_whsec_"


def _base62(number, width):
    digits = []
    while number:
        number, rest = divmod(number, 62)
        digits.append(BASE62[rest])
    return "".join(reversed(digits)).rjust(width, "0")


def _checksum(body):
    return _base62(zlib.crc32(body.encode("ascii")), CHECKSUM_LENGTH)


def generate(prefix):
    """A new secret of the given kind; the caller shows it once and keeps only its digest."""
    body = "".join(secrets.choice(BASE62) for _ in range(RANDOM_LENGTH))
    return prefix + body + _checksum(body)


def is_well_formed(raw, prefix):
    """True when `raw` has the prefix, length, alphabet and checksum of a secret of that kind."""
    if len(raw) != len(prefix) + RANDOM_LENGTH + CHECKSUM_LENGTH or not raw.startswith(prefix):
        return False
    body = raw[len(prefix) : len(prefix) + RANDOM_LENGTH]
    if not _BASE62_SET.issuperset(body):
        return False
    return raw[-CHECKSUM_LENGTH:] == _checksum(body)


def _sha256():
    """CPython's own SHA-256 where it has one (`_sha256` to 3.11, `_sha2` since), else hashlib's.
    The digest is of a ~50-byte secret on every request: OpenSSL 3 sets up a context through its
    provider machinery first, which took twice the builtin's time with warm caches and about
    twice as long again with cold ones (tokens.internals, cpython-builtin-sha256)."""
    for name in ("_sha2", "_sha256"):
        try:
            return importlib.import_module(name).sha256
        except ImportError:
            continue
    return hashlib.sha256


# The constructor `digest` uses; the bearer arrival path calls it inline (one frame less).
SHA256 = _sha256()


def digest(raw):
    """SHA-256 hex digest, the same one django-oauth-toolkit keeps in `token_checksum`."""
    return SHA256(raw.encode("utf-8")).hexdigest()
