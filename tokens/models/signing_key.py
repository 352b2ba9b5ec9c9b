from django.db import models
from django.utils import timezone


class SigningKey(models.Model):
    """A key pair that signs login tokens (JWTs); its public half is published at /.well-known/jwks.json.

    The private key is kept sealed (tokens.sealing). A key is published from its
    creation but signs only from `activates_at` (a JWKS cache lifetime later, so every
    verifier has it before it sees a token it signed); the newest active key signs, and a
    retired key stays published until every token it signed has expired.
    """

    kid = models.CharField("key id", max_length=64, unique=True)
    algorithm = models.CharField(max_length=10, default="EdDSA")
    public_jwk = models.JSONField()
    sealed_private_key = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    activates_at = models.DateTimeField(default=timezone.now, help_text="When it starts signing.")
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"Signing key {self.kid}"

    def __repr__(self):
        return f"<SigningKey {self.kid} {self.algorithm}>"
