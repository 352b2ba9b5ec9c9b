from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import DatabaseError, connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from drf_spectacular.views import SpectacularSwaggerView

from accounts.models import Membership

from .errors import DATABASE_DOWN


@require_GET
@never_cache
def healthz(request):
    """200 when the database answers, 503 when it does not (for load balancers)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return JsonResponse({"code": "service_unavailable", "detail": DATABASE_DOWN}, status=503)
    return JsonResponse({"status": "ok"})


@login_required
def home(request):
    """Go to the organization last used, or the first one the user belongs to."""
    memberships = Membership.objects.filter(user=request.user).select_related("organization")
    org_id = request.session.get("org_id")
    membership = memberships.filter(organization__public_id=org_id).first() if org_id else None
    membership = membership or memberships.first()
    if membership is None:
        return render(request, "portal/no_organization.html")
    return redirect("org_home", org_id=membership.organization.public_id)


class ApiDocsView(SpectacularSwaggerView):
    """Swagger UI from the installed sidecar, in our page (its language declared) with our
    contrast fixes and labels (static/css/swagger.css, static/js/swagger.js); its HTML
    renderer has no template for DRF's OPTIONS metadata."""

    template_name = "docs/swagger_ui.html"

    def options(self, request, *args, **kwargs):
        return HttpResponse(headers={"Allow": ", ".join(self.allowed_methods)})


@require_GET
def favicon(request):
    """/favicon.ico, which browsers ask for whatever the page links to."""
    icon = (settings.BASE_DIR / "static" / "favicon.ico").read_bytes()
    response = HttpResponse(icon, content_type="image/x-icon")
    response["Cache-Control"] = "public, max-age=86400"
    return response
