"""A password hasher for OAuth client secrets only (DOT's `CLIENT_SECRET_HASHER`).

Key stretching (PBKDF2's ~300 ms) protects guessable human passwords. A client
secret is 128 random characters from a 62-character alphabet, over 700 bits:
nobody brute-forces that, however fast the hash. So one salted SHA-256 keeps
the stored value useless to a thief while client authentication at /o/token/
and /o/introspect/ costs microseconds. It sits last in PASSWORD_HASHERS, so it
is never chosen for a user's password.
"""

import hashlib

from django.contrib.auth.hashers import BasePasswordHasher, mask_hash
from django.utils.crypto import constant_time_compare

# Every stored client secret starts with this name; renaming it would refuse them all.
ALGORITHM = "kw_client_sha256"


class ClientSecretHasher(BasePasswordHasher):
    """Salted SHA-256, for long machine-generated secrets; never for passwords people choose."""

    algorithm = ALGORITHM

    def encode(self, password, salt):
        self._check_encode_args(password, salt)
        digest = hashlib.sha256(f"{salt}${password}".encode()).hexdigest()
        return f"{self.algorithm}${salt}${digest}"

    def decode(self, encoded):
        algorithm, salt, digest = encoded.split("$", 2)
        if algorithm != self.algorithm:
            raise ValueError("Not a client secret hash.")
        return {"algorithm": algorithm, "hash": digest, "salt": salt}

    def verify(self, password, encoded):
        try:
            salt = self.decode(encoded)["salt"]
        except ValueError:
            return False
        return constant_time_compare(encoded, self.encode(password, salt))

    def safe_summary(self, encoded):
        decoded = self.decode(encoded)
        return {
            "algorithm": decoded["algorithm"],
            "salt": mask_hash(decoded["salt"], show=2),
            "hash": mask_hash(decoded["hash"]),
        }

    def must_update(self, encoded):
        return False

    def harden_runtime(self, password, encoded):
        # Nothing to even out: there is no work factor to differ between hashes.
        pass
