"""Developer › API keys: create (secret shown once), rename, rotate, delete."""

from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts.decorators import developer_required
from accounts.errors import Refused
from accounts.http import client_ip as _ip
from accounts.models import Membership

from . import api_keys
from . import scopes as catalog
from .models import ApiKey
from .services import GRACE_PERIODS


def visible_keys(request):
    """Admins see every live key of the organization; developers the keys they created."""
    keys = ApiKey.objects.live().filter(organization=request.organization).select_related(
        "membership__user", "created_by"
    )
    if not request.membership.is_admin:
        keys = keys.filter(created_by=request.user)
    return keys


def _page(request, *, error=None, issued=None, secret=None, status=200, form=None):
    page = Paginator(visible_keys(request), 25).get_page(request.GET.get("page"))
    allowed = catalog.allowed_for(request.membership.role, request.membership.has_developer_access)
    domains = [
        {"name": d.name, "scopes": [s for s in d.scopes if s.name in allowed]} for d in catalog.DOMAINS
    ]
    service_accounts = []
    if request.membership.is_admin:
        service_accounts = Membership.objects.filter(
            organization=request.organization, user__is_service_account=True
        ).select_related("user")
    context = {
        "page": page, "domains": [d for d in domains if d["scopes"]], "error": error, "issued": issued,
        "secret": secret, "form": form or {}, "service_accounts": service_accounts,
        "grace_periods": list(GRACE_PERIODS),
    }
    template = "tokens/partials/api_key_list.html" if request.htmx and not issued else "tokens/api_keys.html"
    response = render(request, template, context, status=status)
    if secret:
        response["Cache-Control"] = "no-store"
    return response


@never_cache
@developer_required
def api_keys_page(request):
    return _page(request)


@require_POST
@developer_required
def api_key_create(request):
    owner = None
    if request.POST.get("owner"):
        owner = get_object_or_404(
            Membership.objects.select_related("user", "organization"),
            organization=request.organization, pk=request.POST["owner"],
        )
    try:
        issued = api_keys.create_api_key(
            issuer=request.membership, name=request.POST.get("name", ""),
            scopes=request.POST.getlist("scopes"), reach=request.POST.get("reach", "app"), owner=owner,
            allow_jwt=request.POST.get("allow_jwt") == "on", ip=_ip(request),
        )
    except Refused as exc:
        return _page(request, error=exc.message, status=400, form=request.POST)
    secret = api_keys.reveal_secret(issued, by=request.user, ip=_ip(request))
    return _page(request, issued=issued.key, secret=secret, status=201)


@require_POST
@developer_required
def api_key_rename(request, key_id):
    key = get_object_or_404(visible_keys(request), pk=key_id)
    try:
        api_keys.rename_api_key(key=key, name=request.POST.get("name", ""), by=request.user, ip=_ip(request))
    except Refused as exc:
        return _page(request, error=exc.message, status=400)
    return _page(request)


@require_POST
@developer_required
def api_key_rotate(request, key_id):
    key = get_object_or_404(visible_keys(request), pk=key_id)
    try:
        issued = api_keys.rotate_api_key(key=key, grace=request.POST.get("grace", "none"), by=request.user,
                                         ip=_ip(request))
    except Refused as exc:
        return _page(request, error=exc.message, status=400)
    secret = api_keys.reveal_secret(issued, by=request.user, ip=_ip(request))
    return _page(request, issued=issued.key, secret=secret, status=201)


@require_http_methods(["GET", "POST"])
@developer_required
def api_key_delete(request, key_id):
    key = get_object_or_404(visible_keys(request), pk=key_id)
    if request.method == "GET":
        return render(request, "tokens/api_key_confirm_delete.html", {"key": key})
    api_keys.revoke_api_key(key=key, by=request.user, ip=_ip(request))
    return _page(request)
