"""Compiling a credential's limits into a `Check` when the credential enters the cache: one
query (its own limits and its organization's default together), never one per request.

A credential with no limits anywhere gets None, so the warm path pays one `is not None`."""

from django.db.models import Exists, OuterRef, Q
from django.db.models.expressions import RawSQL

from ..models import CredentialKind, Limits
from . import check, sync

# A bearer row's kind -> the kind its limits are set on (an OAuth access token is limited as
# its client; login sessions are a person's own and take none).
BEARER_SUBJECT = {
    CredentialKind.PERSONAL: CredentialKind.PERSONAL,
    CredentialKind.OAUTH: CredentialKind.OAUTH_CLIENT,
}


def organization_has_limits():
    """Whether the row's organization has limits at all: read with the credential's own lookup,
    so a credential of an organization without limits costs no second query when cached."""
    return Exists(Limits.objects.filter(organization_id=OuterRef("organization_id")))


def organization_has_limits_sql(model):
    """The same as SQL without a parameter (Exists binds its `1`): the bearer lookup is sent
    with its digest as its only parameter, prepared or not."""
    limits, outer = Limits._meta.db_table, model._meta.db_table
    return RawSQL(
        f'EXISTS (SELECT 1 FROM "{limits}" WHERE "{limits}"."organization_id" = "{outer}"."organization_id")',
        (),
    )


def for_bearer(kind, token_id, application_id, organization_id, limited=True):
    """The check of a bearer row (bearer_lookup's kind, token id, client id, organization, and
    whether the organization has limits at all)."""
    subject = BEARER_SUBJECT.get(kind)
    if subject is None or not limited:
        return None
    credential_id = application_id if subject == CredentialKind.OAUTH_CLIENT else token_id
    return compile_for(subject, credential_id, organization_id)


def compile_for(kind, credential_id, organization_id, limited=True):
    """The check of one credential, or None when neither it nor its organization has limits."""
    if not limited:
        return None
    rows = list(
        Limits.objects.filter(organization_id=organization_id).filter(
            Q(credential_id__isnull=True) | Q(credential_kind=kind, credential_id=credential_id)
        )
    )
    own = next((r for r in rows if r.credential_id is not None), None)
    default = next((r for r in rows if r.credential_id is None), None)
    return build(kind, credential_id, own, default)


def build(kind, credential_id, own, default):
    """A Check from the two rows (either may be None)."""
    rated = own if own is not None and own.rate_limits else default
    key = f"{kind}:{credential_id}"
    windows = [
        check.window(
            key,
            spec["name"],
            spec["limit"],
            spec["window_seconds"],
            spec.get("cost", 1),
            rated.pk,
        )
        for spec in (rated.rate_limits if rated is not None else ())
    ]
    credits = None
    if own is not None and own.credits is not None:
        credits = check.credits_of(
            own.pk,
            own.updated_at.timestamp(),
            own.refill_amount,
            own.refill_interval,
            own.refill_day,
        )
    allowlists = [
        check.Allowlist(row.pk, row.allowlist, row.allowlist_report_only)
        for row in (own, default)
        if row is not None and row.allowlist
    ]
    if not (windows or credits or allowlists):
        return None
    sync.ensure_started()
    return check.Check(windows=windows, credits=credits, allowlists=allowlists)
