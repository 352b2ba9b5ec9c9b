"""Delete expired OAuth authorization codes and tokens (run it from cron; see the README)."""

from django.core.management.base import BaseCommand

from tokens.oauth import services


class Command(BaseCommand):
    help = (
        "Delete expired OAuth authorization codes, OAuth refresh tokens past their idle lifetime "
        "and expired OAuth access tokens no refresh token needs. Safe to run at any time, e.g. hourly."
    )

    def handle(self, *args, **options):
        counts = services.purge_expired()
        self.stdout.write(
            ", ".join(f"{count} {what.replace('_', ' ')}" for what, count in counts.items())
            + " deleted."
        )
