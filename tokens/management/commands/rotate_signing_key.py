"""Publish the next login-token signing key; it signs once every verifier can have it."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from tokens.login import signing_keys


class Command(BaseCommand):
    help = (
        "Publish a new login-token signing key in /.well-known/jwks.json now; it starts signing "
        f"{signing_keys.JWKS_MAX_AGE_SECONDS} s later (the JWKS cache lifetime), and the current key then "
        "stays published for one access-token lifetime. Running it again while a key waits changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--immediately",
            action="store_true",
            help="Sign with a new key now and retire every other (a compromised key). Verifiers that cached "
            "the JWKS refuse new tokens until they refetch it.",
        )

    def handle(self, *args, immediately=False, **options):
        key = signing_keys.rotate(immediately=immediately)
        published = ", ".join(k.kid for k in signing_keys.published_keys())
        if key.activates_at <= timezone.now():
            self.stdout.write(
                f"New signing key {key.kid} ({key.algorithm}) signs now. Published keys: {published}"
            )
        else:
            self.stdout.write(
                f"Signing key {key.kid} ({key.algorithm}) is published and starts signing at "
                f"{key.activates_at:%Y-%m-%dT%H:%M:%SZ}. Published keys: {published}"
            )
