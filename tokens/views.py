"""Portal pages of the developer section and admin area that belong to no one kind: the
developer home and the audit log (each kind's pages live in its own `views`)."""

from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.decorators import admin_required, developer_required
from accounts.http import render_page_or_fragment

EVENTS_PER_PAGE = 50


@admin_required
@require_GET
def audit_log(request):
    """Every credential event of the organization, newest first."""
    events = request.organization.audit_events.select_related("actor").order_by("-created_at", "-id")
    page = Paginator(events, EVENTS_PER_PAGE).get_page(request.GET.get("page"))
    return render_page_or_fragment(
        request, "tokens/audit_log.html", "tokens/partials/audit_list.html", {"page": page}
    )


@developer_required
def developer_home(request):
    return render(request, "tokens/developer_home.html")
