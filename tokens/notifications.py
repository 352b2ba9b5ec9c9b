"""Email about credentials: the creation notice, expiry reminders and leak notices.

Every message is sent by a task (a worker, never the request), in plain text and HTML, from
templates under templates/email/. It names the credential (name, kind, last 4), its owner and
organization, and links to it in the portal: never a secret or a digest.

- Creation notices start at the one seam every issuing path passes: `tokens.audit.record`
  calls `after_record`, which enqueues the notice once the issuing transaction commits. So no
  kind grows its own call, and a kind added later is covered by writing its audit event.
- Expiry reminders are claimed by `send_due_reminders`, a job of `manage.py run_schedule`:
  one `ExpiryReminder` row per credential and stage under a unique constraint, so however
  many schedulers run, one of them inserts the row and only that one enqueues the email.
"""

import datetime as dt
import logging
from urllib.parse import urlencode

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, Role
from lib.tasks import enqueue_on_commit, task

from . import kinds, lifecycle
from .models import (
    AccessToken,
    AuditEvent,
    CredentialKind,
    ExpiryReminder,
)

logger = logging.getLogger(__name__)

WEEK = dt.timedelta(days=7)
ONE_DAY = dt.timedelta(days=1)

# Which kinds are announced when issued and which get expiry reminders: tokens.kinds. An OAuth
# grant is announced when the person authorizes the client (the authorization code grant, as
# GitHub mails "a third-party application was authorized"), never on its refreshes.
AUTHORIZATION = "authorization_code"  # how tokens.oauth's audit event details a new grant


def reminded_kinds():
    return [kind.name for kind in kinds.where("reminded")]


# --- What a message says about a credential ---------------------------------------------


def credential_of(kind, pk):
    """The credential an event or reminder names, with what the messages need; None if gone."""
    found = kinds.get(kind)
    return None if found is None else found.credentials().filter(pk=pk).first()


def owner_of(credential, kind=None):
    """The person (or service account) a credential acts as."""
    return kinds.get(kind or credential.credential_kind).owner(credential)


def scopes_of(credential):
    return list(getattr(credential, "scope_list", ()))


def admin_emails(organization_id):
    return list(
        Membership.objects.filter(
            organization_id=organization_id,
            role=Role.ADMIN,
            user__is_active=True,
            user__is_service_account=False,
        ).values_list("user__email", flat=True)
    )


def recipients(kind, credential, *, admins=False):
    """[(email, link)]: the owner, and the organization's admins when asked or when no person owns
    it (an organization-owned key, a service account's token). Each link opens a page its reader
    can see: the owner's own page of the credential, or for an admin the organization's."""
    owner = owner_of(credential)
    people = []
    if owner is not None and owner.is_active and not owner.is_service_account:
        people.append((owner.email, owner_link(kind, credential)))
    if admins or not people:
        link = admin_link(kind, credential)
        people += [
            (email, link)
            for email in admin_emails(credential.organization_id)
            if email not in {address for address, _link in people}
        ]
    return people


def is_live(credential):
    """Whether the credential still shows in the portal (revoked ones leave every list)."""
    revoked = getattr(credential, "revoked_at", None)
    return revoked is None or revoked > timezone.now()


def _absolute(name, org_id, **kwargs):
    """An absolute URL on PORTAL_BASE_URL: emails have no request to take the host from."""
    return settings.PORTAL_BASE_URL + reverse(name, kwargs={"org_id": org_id, **kwargs})


def owner_link(kind, credential):
    """The credential's page for the person it acts as, or their list of that kind once it is gone."""
    org_id = credential.organization.public_id
    found = kinds.get(kind)
    list_name, detail_name, id_keyword = found.pages if found else ("developer_home", None, None)
    if detail_name and is_live(credential):
        return _absolute(detail_name, org_id, **{id_keyword: credential.pk})
    return _absolute(list_name, org_id)


def admin_link(kind, credential):
    """Where an admin finds a credential someone else holds: the inventory, narrowed to it; once
    it is revoked (a leak), the audit log, which keeps what happened to it."""
    org_id = credential.organization.public_id
    if not is_live(credential):
        return _absolute("audit_log", org_id)
    owner = owner_of(credential)
    search = describe_name(credential) or (owner.email if owner is not None else "")
    query = urlencode({"kind": kind, "q": search} if search else {"kind": kind})
    return f"{_absolute('credential_inventory', org_id)}?{query}"


def describe_name(credential):
    # An OAuth grant goes by its client's name.
    return getattr(credential, "name", "") or getattr(
        getattr(credential, "application", None), "name", ""
    )


def describe(kind, credential):
    """The context every credential message shares."""
    owner = owner_of(credential)
    return {
        "kind": CredentialKind(kind).label,
        "name": describe_name(credential),
        "last4": credential.last4 or "",
        "scopes": scopes_of(credential),
        "expires": getattr(credential, "expires", None),
        "owner": owner.email if owner is not None else "",
        "organization": credential.organization.name,
    }


def send(template, to, context):
    """One message per recipient (nobody learns who else was told), text and HTML alike; `to` is
    [(email, link)], each reader's own link to the credential."""
    if not to:
        return 0
    messages = []
    for address, link in to:
        personal = context | {"link": link}
        subject = " ".join(render_to_string(f"email/{template}_subject.txt", personal).split())
        text = render_to_string(f"email/{template}.txt", personal)
        html = render_to_string(f"email/{template}.html", personal)
        message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [address])
        message.attach_alternative(html, "text/html")
        messages.append(message)
    return get_connection().send_messages(messages)


# --- Creation notices -------------------------------------------------------------------


def after_record(audit_event):
    """Called by `tokens.audit.record` for every event it writes."""
    if audit_event.action != AuditEvent.Action.ISSUED or audit_event.credential_id is None:
        return
    kind = audit_event.credential_kind
    if kind in {k.name for k in kinds.where("announced")} or (
        kind == CredentialKind.OAUTH and audit_event.detail.startswith(AUTHORIZATION)
    ):
        enqueue_on_commit(send_creation_notice, audit_event.pk)


def _subject_of(audit_event_id, **only):
    """(audit event, kind, credential) of an event a task was given; the credential is None when
    the event or the credential is gone (the task then sends nothing)."""
    audit_event = AuditEvent.objects.filter(pk=audit_event_id, **only).first()
    if audit_event is None:
        return None, None, None
    kind = audit_event.credential_kind
    return audit_event, kind, credential_of(kind, audit_event.credential_id)


@task()
def send_creation_notice(audit_event_id):
    audit_event, kind, credential = _subject_of(audit_event_id)
    if credential is None:
        return 0
    context = describe(kind, credential) | {
        "created_at": audit_event.created_at,
        "ip": audit_event.ip,
    }
    sent = send("credential_created", recipients(kind, credential), context)
    logger.info(
        "Creation notice of %s %s (…%s) sent to %d", kind, credential.pk, credential.last4, sent
    )
    return sent


# --- Expiry reminders -------------------------------------------------------------------


def due_stage(expires, now):
    """Which reminder is due at `now` for a credential expiring at `expires`, if any: the
    7-day one from a week before until the day starts, then the one of the day (until a day
    after expiry, so a scheduler that was down catches up, but never on long-dead tokens)."""
    day_starts = timezone.localtime(expires).replace(hour=0, minute=0, second=0, microsecond=0)
    if now >= day_starts:
        return ExpiryReminder.Stage.ON_THE_DAY if now < expires + ONE_DAY else None
    if now >= expires - WEEK:
        return ExpiryReminder.Stage.WEEK_BEFORE
    return None


def send_due_reminders(*, now=None):
    """Scheduler job: claim every reminder due at `now` and enqueue its email."""
    now = now or timezone.now()
    tokens = (
        AccessToken.objects.filter(
            kind__in=reminded_kinds(),
            membership__isnull=False,
            expires__gt=now - ONE_DAY,
            expires__lte=now + WEEK,
        )
        .filter(Q(revoked_at__isnull=True) | Q(revoked_at__gt=now))
        .select_related("organization", "user")
    )
    tokens = list(tokens)
    done = set(
        ExpiryReminder.objects.filter(
            credential_kind__in=reminded_kinds(), credential_id__in=[t.pk for t in tokens]
        ).values_list("credential_kind", "credential_id", "stage")
    )
    claimed = 0
    for token in tokens:
        stage = due_stage(token.expires, now)
        if stage is not None and (token.kind, token.pk, stage) not in done:
            claimed += claim_reminder(token, stage, now)
    return f"{claimed} reminder(s) claimed"


def claim_reminder(token, stage, now):
    """Insert the reminder's row; only the inserter emits the event and enqueues the email."""
    with transaction.atomic():
        reminder, created = ExpiryReminder.objects.get_or_create(
            credential_kind=token.kind,
            credential_id=token.pk,
            stage=stage,
            defaults={"expires": token.expires, "created_at": now},
        )
        if not created:
            return 0
        if stage == ExpiryReminder.Stage.ON_THE_DAY:
            event_type = "credential.expired" if token.expires <= now else "credential.expiring"
            # webhook: credential.expiring / credential.expired
            lifecycle.emit(
                token.organization,
                event_type,
                lifecycle.credential_payload(token, kind=token.kind, owner=owner_of(token)),
            )
        enqueue_on_commit(send_expiry_reminder, reminder.pk)
    return 1


@task()
def send_expiry_reminder(reminder_id):
    # Marked sent before sending, so a second run of this task sends nothing.
    if not ExpiryReminder.objects.filter(pk=reminder_id, sent_at__isnull=True).update(
        sent_at=timezone.now()
    ):
        return 0
    reminder = ExpiryReminder.objects.get(pk=reminder_id)
    credential = credential_of(reminder.credential_kind, reminder.credential_id)
    if credential is None:
        return 0
    context = describe(reminder.credential_kind, credential) | {
        "on_the_day": reminder.stage == ExpiryReminder.Stage.ON_THE_DAY,
        # Expired when the reminder fell due (a catch-up run), or by the time it is sent; the
        # days left are counted when it is sent (the templates' expiry_of), not assumed to be 7.
        "expired": reminder.expires <= max(reminder.created_at, timezone.now()),
        "expires": reminder.expires,
    }
    try:
        return send("expiry_reminder", recipients(reminder.credential_kind, credential), context)
    except Exception:
        ExpiryReminder.objects.filter(pk=reminder_id).update(sent_at=None)
        raise


# --- Leak notices -----------------------------------------------------------------------


@task()
def send_leak_notice(audit_event_id):
    """To the owner and every admin: which credential was found where, and that it is revoked."""
    audit_event, kind, credential = _subject_of(audit_event_id, action=AuditEvent.Action.LEAKED)
    if credential is None:
        return 0
    context = describe(kind, credential) | {
        "where": audit_event.detail,
        "reported_at": audit_event.created_at,
    }
    return send("credential_leaked", recipients(kind, credential, admins=True), context)
