"""Import an organization's pre-existing plaintext API token; only its digest is kept."""

import sys

from django.core.management.base import BaseCommand, CommandError

from accounts.errors import Refused
from accounts.models import Organization
from tokens.personal import services


class Command(BaseCommand):
    help = "Read a legacy token from standard input and store only its digest (Medchat's pre-existing tokens)."

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="The organization's slug.")

    def handle(self, *args, org, **options):
        organization = Organization.objects.filter(slug=org).first()
        if organization is None:
            raise CommandError(f"No organization with slug {org!r}.")
        if sys.stdin.isatty():
            self.stderr.write("Paste the legacy token, then press Enter:")
        raw = sys.stdin.readline()
        try:
            token = services.import_legacy_token(organization=organization, raw=raw)
        except Refused as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(
            f"Imported as token {token.pk} ({token.name!r}, ending …{token.last4}); "
            "only its digest is stored."
        )
