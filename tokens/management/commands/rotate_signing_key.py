"""Start signing login tokens with a new key; the old one stays published until its tokens expire."""

from django.core.management.base import BaseCommand

from tokens.login import signing_keys


class Command(BaseCommand):
    help = (
        "Create a new login-token signing key and stop signing with the others. Retired keys stay "
        "in /.well-known/jwks.json for one access-token lifetime, so tokens they signed still verify."
    )

    def handle(self, *args, **options):
        key = signing_keys.create_key(retire_others=True)
        published = ", ".join(k.kid for k in signing_keys.published_keys())
        self.stdout.write(f"New signing key {key.kid} ({key.algorithm}). Published keys: {published}")
