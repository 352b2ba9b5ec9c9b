"""The scheduler: runs the periodic jobs of settings.SCHEDULE, once (cron, systemd timers) or
in a loop beside the workers."""

import logging
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.module_loading import import_string

logger = logging.getLogger("tokens.schedule")


class Command(BaseCommand):
    help = (
        "Run the periodic jobs of settings.SCHEDULE (expiry reminders and the like): each once, "
        "or with --loop each whenever it is due. Safe to run on several machines at once: every "
        "job is idempotent (it claims a unique row before it acts)."
    )

    def add_arguments(self, parser):
        parser.add_argument("jobs", nargs="*", help="Only these jobs (default: every one).")
        parser.add_argument(
            "--loop", action="store_true", help="Keep running, each job at its interval."
        )
        parser.add_argument(
            "--now", help="Run as if it were this moment (ISO 8601; for tests and catching up)."
        )

    def handle(self, *args, jobs, loop, now, **options):
        schedule = settings.SCHEDULE
        unknown = sorted(set(jobs) - set(schedule))
        if unknown:
            raise CommandError(
                f"No such job: {', '.join(unknown)}. Jobs: {', '.join(schedule) or 'none'}."
            )
        names = jobs or list(schedule)
        at = None
        if now:
            at = parse_datetime(now)
            if at is None or timezone.is_naive(at):
                raise CommandError(
                    "--now takes an ISO 8601 moment with its offset, e.g. 2026-12-01T09:00:00Z."
                )
        if not loop:
            for name in names:
                self.run_job(name, schedule[name], at or timezone.now())
            return
        due = dict.fromkeys(names, 0.0)  # monotonic time each job is next due
        while True:
            for name in names:
                if time.monotonic() >= due[name]:
                    close_old_connections()
                    self.run_job(name, schedule[name], timezone.now())
                    due[name] = time.monotonic() + schedule[name]["every"]
            time.sleep(max(0.5, min(due.values()) - time.monotonic()))

    def run_job(self, name, entry, now):
        job = import_string(entry["job"])
        try:
            outcome = job(now=now)
        except Exception:
            # One failing job must not stop the others (nor the loop); the next run tries again.
            logger.exception("Scheduled job %s failed", name)
            return
        logger.info("Scheduled job %s ran: %s", name, outcome)
        self.stdout.write(f"{name}: {outcome}")
