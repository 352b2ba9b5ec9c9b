"""Background work, the one way Keyward does it: Django's Tasks API.

Django 6 ships `django.tasks`; on Django 5.2 the `django-tasks` backport provides the same
API, and `django-tasks-db` its database backend (settings.TASKS). Conventions for our tasks:

- A task is a module-level function decorated with `@task` in the module that owns the work
  (`tokens.notifications`, `chats.webhooks`…), named for what it does, taking ids and plain
  JSON values only: the row is read again when the task runs, so it sees the state of then.
- A task must be safe to run twice (a worker may die after the work and before marking the
  task done): it checks, or claims a unique row, before any side effect.
- Work that follows a database write is enqueued with `enqueue_on_commit`, so a worker never
  looks for a row that is not committed yet, and a rolled-back write sends nothing.
- Periodic work is a job in settings.SCHEDULE, run by `manage.py run_schedule`.
"""

import datetime as dt
import functools
import logging

from django.db import transaction

try:  # Django 6 and later
    from django.tasks import task
except ImportError:  # Django 5.2: the backport
    from django_tasks import task

__all__ = ["enqueue_on_commit", "task"]

logger = logging.getLogger(__name__)


def enqueue_on_commit(a_task, *args, **kwargs):
    """Enqueue `a_task(*args, **kwargs)` once the current transaction commits (at once outside
    one). A queue that cannot take it is logged, never raised into the request that committed."""
    transaction.on_commit(functools.partial(_enqueue, a_task, args, kwargs))


def _enqueue(a_task, args, kwargs):
    try:
        a_task.enqueue(*args, **kwargs)
    except Exception:
        logger.exception("Could not enqueue task %s", a_task.name)


def prune_finished_tasks(*, now):
    """Scheduler job: forget tasks that finished a week ago (failed ones after 30 days, so
    someone can still read why). Deleting what is already gone is a no-op: safe to run twice."""
    # Imported when the job runs: models need the app registry, and this module loads early.
    from django_tasks_db.models import DBTaskResult

    finished = DBTaskResult.objects.finished()
    deleted, _ = (
        finished.exclude(status="FAILED").filter(finished_at__lte=now - dt.timedelta(days=7))
        | finished.filter(status="FAILED", finished_at__lte=now - dt.timedelta(days=30))
    ).delete()
    return f"{deleted} finished task(s) pruned"
