"""Portal pages of the developer section and admin area that belong to no one kind: the
developer home, the audit log and the organization's credential inventory (each kind's
pages live in its own `views`)."""

from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from accounts.decorators import admin_required, developer_required
from accounts.http import RETURN_PARAMETER, render_page_or_fragment

from . import kinds
from .audit_log import AuditFilterForm, csv_lines, keyset_page
from .inventory import STATES
from .usage import report as usage_report


@admin_required
@require_GET
def audit_log(request):
    """Every credential event of the organization, newest first, narrowed by the URL's filters."""
    organization = request.organization
    form = AuditFilterForm(request.GET, organization=organization)
    events = form.filter(organization.audit_events.select_related("actor"))
    rows, older, newer = keyset_page(
        events, after=request.GET.get("after"), before=request.GET.get("before")
    )
    query = form.query()
    context = {
        "form": form,
        "events": rows,
        "filtered": bool(query),
        "older_url": older and "?" + urlencode({**query, "after": rows[-1].pk}),
        "newer_url": newer and "?" + urlencode({**query, "before": rows[0].pk}),
        "export_url": reverse("audit_log_export", args=[organization.public_id])
        + ("?" + urlencode(query) if query else ""),
    }
    return render_page_or_fragment(
        request, "tokens/audit_log.html", "tokens/partials/audit_list.html", context
    )


@admin_required
@require_GET
def audit_log_export(request):
    """The filtered audit log as CSV, every row (not just one page)."""
    organization = request.organization
    form = AuditFilterForm(request.GET, organization=organization)
    events = form.filter(organization.audit_events.all())
    response = StreamingHttpResponse(csv_lines(events), content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = (
        f'attachment; filename="keyward-audit-{organization.slug}-{stamp}.csv"'
    )
    return response


@developer_required
def developer_home(request):
    return render(request, "tokens/developer_home.html")


# --- the organization's credential inventory ------------------------------------------------
#
# Each kind gives its own rows (`Kind.inventory`, tokens/<kind>/kind.py); each row's revoke
# button links to its kind's own confirmation page, so the revocation runs through that
# kind's view and service, confirmation and audit included, as when its owner revokes it.


def _attach_sparklines(rows, now):
    """Each counted row's last 24 hours: one query per kind and usage table."""
    ids = {}
    for row in rows:
        if row.usage_key is not None:
            ids.setdefault(row.usage_key[0], []).append(row.usage_key[1])
    lines = {kind: usage_report.sparklines(kind, pks, now=now) for kind, pks in ids.items()}
    for row in rows:
        if row.usage_key is not None:
            row.sparkline = lines[row.usage_key[0]].get(row.usage_key[1], [])


@admin_required
@require_GET
def credential_inventory(request):
    """Every credential of the organization, whoever holds it: one query per kind, whatever
    their number. Filters: `q` (name or owner), `kind`, `state`."""
    q = request.GET.get("q", "").strip()[:100]
    kind = request.GET.get("kind", "")
    state = request.GET.get("state", "")
    now = timezone.now()
    org_id = request.organization.public_id
    rows = []
    sources = kinds.where("inventory")
    for source in sources:
        if kind in {s.name for s in sources} and kind != source.name:
            continue
        rows += source.inventory(request.organization, q, now, org_id)
    if state in dict(STATES):
        rows = [row for row in rows if row.state == state]
    _attach_sparklines(rows, now)
    # Each confirmation brings the admin back here, filters and all, not to their own lists.
    back = urlencode({RETURN_PARAMETER: request.get_full_path()})
    for row in rows:
        if row.revoke_url:
            row.revoke_url += "?" + back
    context = {
        "rows": rows,
        "q": q,
        "kind": kind,
        "state": state,
        "kinds": [(source.name, source.plural) for source in sources],
        "states": STATES,
        "now": now,
    }
    return render(request, "tokens/admin/inventory.html", context)
