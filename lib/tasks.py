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
- A worker that dies mid-task (killed, out of memory, its machine gone) leaves the task RUNNING:
  `db_worker` records an outcome only if it lives to see it, and keeps no heartbeat. The
  `stuck-tasks` job fails such a task once it has run far longer than any of ours can, and
  enqueues it again (every task is safe to run twice), up to `WORKERS_LOST_BEFORE_GIVING_UP`.
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

# Our tasks end within seconds (an SMTP or webhook call times out after 10 s): one RUNNING this
# long has lost its worker. Generous, since a worker that is only slow would run it twice.
STUCK_AFTER = dt.timedelta(minutes=15)
# A task that keeps killing its workers (one that exhausts memory, say) is not retried forever.
WORKERS_LOST_BEFORE_GIVING_UP = 3


class WorkerLost(Exception):
    """Recorded as the error of a task whose worker stopped before recording an outcome."""


WORKER_LOST = f"{WorkerLost.__module__}.{WorkerLost.__qualname__}"


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


def reclaim_stuck_tasks(*, now):
    """Scheduler job: fail every task RUNNING for longer than STUCK_AFTER (its worker died) and
    enqueue it again, unless it has lost WORKERS_LOST_BEFORE_GIVING_UP workers already.

    Each is failed by one conditional UPDATE, so of two schedulers only one enqueues the copy,
    and a worker that was merely slow and finishes later overwrites the failure with its own
    outcome (the copy then runs once more, which every task allows)."""
    from django.core.exceptions import SuspiciousOperation
    from django_tasks_db.models import DBTaskResult

    failed = enqueued = 0
    for stuck in DBTaskResult.objects.running().filter(started_at__lt=now - STUCK_AFTER):
        if not DBTaskResult.objects.filter(pk=stuck.pk, status="RUNNING").update(
            status="FAILED",
            finished_at=now,
            exception_class_path=WORKER_LOST,
            traceback=(
                f"Worker {', '.join(stuck.worker_ids) or '?'} took this task at "
                f"{stuck.started_at.isoformat()} and stopped without recording an outcome."
            ),
        ):
            continue
        failed += 1
        lost = DBTaskResult.objects.filter(
            task_path=stuck.task_path,
            args_kwargs=stuck.args_kwargs,
            exception_class_path=WORKER_LOST,
        ).count()
        if lost >= WORKERS_LOST_BEFORE_GIVING_UP:
            logger.error("Task %s lost %d workers: given up", stuck.task_path, lost)
            continue
        try:
            again = stuck.task  # same queue, priority and (past, so due) run_after
        except (ImportError, SuspiciousOperation):
            logger.error("Task %s no longer exists: not enqueued again", stuck.task_path)
            continue
        again.enqueue(*stuck.args_kwargs["args"], **stuck.args_kwargs["kwargs"])
        enqueued += 1
    return f"{failed} stuck task(s) failed, {enqueued} enqueued again"
