"""Background work with real parts: an SMTP server in the test process, `db_worker` and
`run_schedule` as real processes against the test database, schedulers racing each other."""

import datetime as dt
import email
import email.policy
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from lib.tasks import STUCK_AFTER, WORKER_LOST, task
from tests.factories import in_parallel, issue
from tokens import notifications
from tokens.models import ExpiryReminder

ROOT = Path(__file__).resolve().parents[2]


class Inbox:
    """aiosmtpd handler keeping every message it is given."""

    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def wait_for(self, count, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.1)
        with self.lock:
            return list(self.messages)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


@pytest.fixture
def smtp(settings, smtp_server):
    """Django's SMTP backend pointed at the server above, with the settings the README names."""
    controller, inbox = smtp_server
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = controller.hostname
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = False
    settings.DEFAULT_FROM_EMAIL = "Keyward <keyward@acme.test>"
    return inbox


def parts(message):
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    return text, html


def test_a_creation_notice_goes_over_real_smtp_in_text_and_html(
    settings, smtp, dev, django_capture_on_commit_callbacks
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    with django_capture_on_commit_callbacks(execute=True):
        token, secret = issue(dev, name="Deploy bot", scopes=("read.me",), ip="198.51.100.7")

    ((to, message),) = smtp.wait_for(1)
    assert to == ["dev@acme.test"] and message["From"] == "Keyward <keyward@acme.test>"
    assert "Deploy bot" in message["Subject"]
    text, html = parts(message)
    for body in (text, html):
        assert "Deploy bot" in body and token.last4 in body and "198.51.100.7" in body
        assert secret not in body


# --- Real processes against the test database (PostgreSQL: a subprocess cannot share
# SQLite's in-memory test database) -----------------------------------------------------


def process_env(smtp_server=None):
    settings_dict = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": "postgres://{USER}:{PASSWORD}@{HOST}:{PORT}/{NAME}".format(**settings_dict),
        # The same keys as this process: the workers open what it sealed (webhook secrets).
        "SECRET_KEY": settings.SECRET_KEY,
        "DEBUG": "false",
        "ALLOWED_HOSTS": "testserver",
        "PORTAL_BASE_URL": "https://keyward.example",
    }
    if smtp_server is not None:
        env |= {"EMAIL_HOST": smtp_server.hostname, "EMAIL_PORT": str(smtp_server.port)}
    return env


def manage(*args, env):
    return subprocess.Popen(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.fixture
def workers(smtp_server):
    """Two `manage.py db_worker` processes, stopped (SIGTERM, then killed) after the test."""
    controller, _ = smtp_server
    env = process_env(controller)
    started = [
        manage("db_worker", "--no-reload", "--interval", "0.2", "--no-startup-delay", env=env)
        for _ in range(2)
    ]
    yield started
    for process in started:
        process.terminate()
    for process in started:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_until_worked(timeout=60):
    """Every enqueued task finished (the workers poll the queue)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not DBTaskResult.objects.exclude(status__in=["SUCCESSFUL", "FAILED"]).exists():
            break
        time.sleep(0.2)
    assert not DBTaskResult.objects.exclude(status="SUCCESSFUL").exists(), list(
        DBTaskResult.objects.values_list("task_path", "status")
    )


def run_schedulers_at(moment, *, env, copies=2, jobs=()):
    """`copies` schedulers started together, each running every job (or `jobs`) as of `moment`."""
    running = [
        manage("run_schedule", *jobs, "--now", moment.isoformat(), env=env) for _ in range(copies)
    ]
    outputs = [process.communicate(timeout=60)[0] for process in running]
    assert all(process.returncode == 0 for process in running), outputs
    return outputs


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_process_sends_the_creation_notice(smtp_server, workers, dev):
    _controller, inbox = smtp_server
    _token, secret = issue(dev, name="Worker test", ip="192.0.2.4")

    ((to, message),) = inbox.wait_for(1)
    wait_until_worked()
    assert to == ["dev@acme.test"] and "Worker test" in message["Subject"]
    assert secret not in message.as_string()
    (result,) = DBTaskResult.objects.all()
    assert result.task_path == "tokens.notifications.send_creation_notice"
    assert result.worker_ids  # claimed and run by one of the worker processes


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_seven_days_of_a_token_with_two_workers_and_two_schedulers_send_each_email_once(
    smtp_server, workers, dev
):
    """Created with `expires in 7 days`: one creation email, then as the clock passes each
    threshold exactly one 7-day and one day-0 reminder, though two schedulers run at every
    moment and two workers take the tasks."""
    controller, inbox = smtp_server
    env = process_env(controller)
    token, _ = issue(dev, name="Weekly export", expires_at=timezone.now() + dt.timedelta(days=7))
    assert len(inbox.wait_for(1)) == 1

    day_starts = timezone.localtime(token.expires).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    moments = [
        token.created + dt.timedelta(minutes=5),  # a week before: the 7-day reminder
        token.created + dt.timedelta(days=1),  # nothing new
        day_starts + dt.timedelta(minutes=1),  # the day: the day's reminder
        token.expires + dt.timedelta(hours=2),  # expired since: nothing new
    ]
    for moment in moments:
        run_schedulers_at(moment, env=env)
        wait_until_worked()

    messages = inbox.wait_for(3, timeout=10)
    time.sleep(1)  # a fourth message would have arrived by now
    subjects = [message["Subject"] for _, message in inbox.messages]
    assert len(subjects) == 3, subjects
    assert "New Personal access token" in subjects[0]
    assert "expires in 7 days" in subjects[1] and "expires today" in subjects[2]
    assert all(to == ["dev@acme.test"] for to, _ in messages)
    text, _html = parts(messages[1][1])
    assert (
        f"https://keyward.example/orgs/{token.organization.public_id}/developer/tokens/{token.pk}/"
        in text
    )
    assert sorted(ExpiryReminder.objects.values_list("stage", flat=True)) == ["7d", "day0"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_schedulers_racing_in_threads_claim_each_reminder_exactly_once(dev):
    tokens = [
        issue(dev, name=f"t{n}", expires_at=timezone.now() + dt.timedelta(days=3))[0]
        for n in range(5)
    ]
    moment = timezone.now() + dt.timedelta(minutes=1)

    def schedule(n, start):
        start.wait()
        return notifications.send_due_reminders(now=moment)

    outcomes = in_parallel(4, schedule)
    claimed = sum(int(outcome.split()[0]) for outcome in outcomes)
    assert claimed == len(tokens)
    assert ExpiryReminder.objects.count() == len(tokens)
    assert DBTaskResult.objects.filter(
        task_path="tokens.notifications.send_expiry_reminder"
    ).count() == len(tokens)


@task()
def finish_on_second_try(flag):
    """Hangs the first time (leaving `flag` behind to say it started), finishes the next."""
    path = Path(flag)
    if not path.exists():
        path.write_text("started")
        time.sleep(120)
    return "finished"


def wait_for(condition, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not condition():
        time.sleep(0.2)
    return condition()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_task_whose_worker_was_killed_is_run_again_by_the_scheduler_and_a_new_worker(tmp_path):
    env = process_env()
    flag = tmp_path / "started"
    result_id = finish_on_second_try.enqueue(str(flag)).id
    worker = manage("db_worker", "--no-reload", "--interval", "0.2", "--no-startup-delay", env=env)
    try:
        assert wait_for(flag.exists), "the first worker never started the task"
    finally:
        worker.kill()  # SIGKILL: no chance to record anything
        worker.wait()
    assert DBTaskResult.objects.get(pk=result_id).status == "RUNNING"

    later = timezone.now() + STUCK_AFTER + dt.timedelta(minutes=1)
    (output,) = run_schedulers_at(later, env=env, copies=1, jobs=["stuck-tasks"])
    assert "1 stuck task(s) failed, 1 enqueued again" in output
    worker = manage("db_worker", "--no-reload", "--interval", "0.2", "--no-startup-delay", env=env)
    try:
        assert wait_for(lambda: DBTaskResult.objects.filter(status="SUCCESSFUL").exists()), list(
            DBTaskResult.objects.values_list("status", "exception_class_path")
        )
    finally:
        worker.terminate()
        worker.wait(timeout=15)
    lost = DBTaskResult.objects.get(pk=result_id)
    assert (lost.status, lost.exception_class_path) == ("FAILED", WORKER_LOST)
    (again,) = DBTaskResult.objects.exclude(pk=result_id)
    assert (again.status, again.return_value) == ("SUCCESSFUL", "finished")
