"""The scheduler (`manage.py run_schedule`) and the conventions of lib.tasks."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

from lib.tasks import enqueue_on_commit, task

ran = []


def remember_now(*, now):
    ran.append(now)
    return "1 thing done"


def fail(*, now):
    raise RuntimeError("boom")


@task()
def note(value):
    ran.append(value)


@pytest.fixture
def schedule(settings):
    ran.clear()
    settings.SCHEDULE = {
        "remember": {"job": "tests.tokens.test_schedule.remember_now", "every": 60},
        "fail": {"job": "tests.tokens.test_schedule.fail", "every": 60},
    }


def test_run_schedule_runs_every_job_once_and_one_failure_stops_no_other(schedule):
    out = StringIO()
    call_command("run_schedule", "--now", "2026-12-01T09:00:00Z", stdout=out)
    assert ran == [dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC)]
    assert "remember: 1 thing done" in out.getvalue()


def test_run_schedule_runs_only_the_jobs_named_and_refuses_unknown_ones(schedule):
    call_command("run_schedule", "remember", stdout=StringIO())
    assert len(ran) == 1
    with pytest.raises(CommandError, match="No such job: nope"):
        call_command("run_schedule", "nope")
    with pytest.raises(CommandError, match="ISO 8601"):
        call_command("run_schedule", "--now", "tomorrow")


def test_the_configured_schedule_names_importable_jobs(settings):
    from django.utils.module_loading import import_string

    for entry in settings.SCHEDULE.values():
        assert callable(import_string(entry["job"]))
        assert entry["every"] > 0


@pytest.mark.django_db(transaction=True)
def test_enqueue_on_commit_waits_for_the_commit_and_a_rollback_enqueues_nothing(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    ran.clear()
    with transaction.atomic():
        enqueue_on_commit(note, "kept")
        assert ran == []
    assert ran == ["kept"]
    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue_on_commit(note, "rolled back")
        raise RuntimeError
    assert ran == ["kept"]


@pytest.mark.django_db
def test_finished_tasks_are_pruned_after_a_week_and_failed_ones_after_a_month():
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from lib.tasks import prune_finished_tasks

    now = timezone.now()
    note.using(backend="default").enqueue("x")  # still waiting: never pruned
    for status, age in [("SUCCESSFUL", 8), ("SUCCESSFUL", 2), ("FAILED", 8), ("FAILED", 31)]:
        result = DBTaskResult.objects.get(pk=note.enqueue(status).id)
        result.status, result.finished_at = status, now - dt.timedelta(days=age)
        result.save()
    assert prune_finished_tasks(now=now) == "2 finished task(s) pruned"
    assert sorted(DBTaskResult.objects.values_list("status", flat=True)) == [
        "FAILED",
        "READY",
        "SUCCESSFUL",
    ]
    assert prune_finished_tasks(now=now) == "0 finished task(s) pruned"


# --- Tasks whose worker died --------------------------------------------------------------


def claimed_by_a_worker_that_died(value, *, at):
    """A task as `db_worker` leaves it when killed mid-run: RUNNING, never finished."""
    from django_tasks_db.models import DBTaskResult

    result = DBTaskResult.objects.get(pk=note.using(backend="default").enqueue(value).id)
    result.claim("worker-that-died")
    DBTaskResult.objects.filter(pk=result.pk).update(started_at=at)
    return result


@pytest.mark.django_db
def test_a_task_whose_worker_died_is_failed_saying_so_and_enqueued_again():
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from lib.tasks import STUCK_AFTER, WORKER_LOST, reclaim_stuck_tasks

    now = timezone.now()
    stuck = claimed_by_a_worker_that_died("lost", at=now - STUCK_AFTER - dt.timedelta(minutes=1))

    assert reclaim_stuck_tasks(now=now) == "1 stuck task(s) failed, 1 enqueued again"
    stuck.refresh_from_db()
    assert (stuck.status, stuck.exception_class_path) == ("FAILED", WORKER_LOST)
    assert "worker-that-died" in stuck.traceback
    (again,) = DBTaskResult.objects.exclude(pk=stuck.pk)
    assert (again.status, again.task_path, again.args_kwargs) == (
        "READY",
        stuck.task_path,
        {"args": ["lost"], "kwargs": {}},
    )
    assert reclaim_stuck_tasks(now=now) == "0 stuck task(s) failed, 0 enqueued again"


@pytest.mark.django_db
def test_a_task_running_within_the_bound_is_left_alone():
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from lib.tasks import STUCK_AFTER, reclaim_stuck_tasks

    now = timezone.now()
    claimed_by_a_worker_that_died("busy", at=now - STUCK_AFTER + dt.timedelta(minutes=1))
    assert reclaim_stuck_tasks(now=now) == "0 stuck task(s) failed, 0 enqueued again"
    assert list(DBTaskResult.objects.values_list("status", flat=True)) == ["RUNNING"]


@pytest.mark.django_db
def test_a_task_that_keeps_losing_its_worker_is_given_up_after_three_tries():
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from lib.tasks import STUCK_AFTER, WORKERS_LOST_BEFORE_GIVING_UP, reclaim_stuck_tasks

    now = timezone.now()
    claimed_by_a_worker_that_died("fatal", at=now - STUCK_AFTER - dt.timedelta(minutes=1))
    for _ in range(WORKERS_LOST_BEFORE_GIVING_UP):
        reclaim_stuck_tasks(now=now)
        for waiting in DBTaskResult.objects.filter(status="READY"):
            waiting.claim("another-worker-that-died")
            DBTaskResult.objects.filter(pk=waiting.pk).update(
                started_at=waiting.started_at - STUCK_AFTER * 2
            )
    statuses = sorted(DBTaskResult.objects.values_list("status", flat=True))
    assert statuses == ["FAILED"] * WORKERS_LOST_BEFORE_GIVING_UP
