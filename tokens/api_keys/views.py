"""Developer › API keys: create (secret shown once), rename, rotate, delete.

Like the personal-token pages: a view reads top to bottom (who may, fetch through
`ApiKey.objects.visible_to`, call the service, render); with htmx it renders just its
fragment (templates/tokens/api_keys/partials/), without it the whole page. A new secret is
rendered straight from the service's return value in a `no-store` response.
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.decorators import developer_required
from accounts.errors import Refused
from accounts.http import client_ip, render_page_or_fragment, wants_fragment

from .. import audit
from ..models import ApiKey
from . import services
from .forms import ApiKeyCreateForm, ApiKeyRenameForm, ApiKeyRotateForm

KEYS_PER_PAGE = 25
# Fired on <body> after a write; the key list listens for it and reloads itself.
API_KEYS_CHANGED = "api-keys-changed"
PAGE = "tokens/api_keys/api_keys.html"
LIST = "tokens/api_keys/partials/api_key_list.html"
CREATE = "tokens/api_keys/partials/api_key_create.html"


def get_visible_key(request, key_id):
    return get_object_or_404(ApiKey.objects.visible_to(request.membership).for_list(), pk=key_id)


def key_list_context(request, **extra):
    page = Paginator(ApiKey.objects.visible_to(request.membership).for_list(), KEYS_PER_PAGE)
    return {"page": page.get_page(request.GET.get("page")), "rotate_form": ApiKeyRotateForm(), **extra}


def key_create_form(request, data=None):
    service_accounts = ()
    if request.membership.is_admin:
        service_accounts = (
            request.organization.memberships.filter(user__is_service_account=True)
            .select_related("user", "organization")
            .order_by("user__email")
        )
    return ApiKeyCreateForm(data, membership=request.membership, service_accounts=service_accounts)


def page_context(request, **extra):
    """Everything the whole page shows: the create form and the list."""
    return {"form": key_create_form(request), **key_list_context(request), **extra}


def list_refusing(request, form):
    """The list (or the page) with why a row's action was refused above it."""
    errors = [error for field_errors in form.errors.values() for error in field_errors]
    context = key_list_context(request, error=errors[0] if errors else None)
    if not wants_fragment(request):
        context["form"] = key_create_form(request)
    return render_page_or_fragment(request, PAGE, LIST, context, status=400)


def secret_context(request, issued):
    """The one moment a secret is on a page: straight from the service, recorded as shown."""
    return {
        "new_key": issued.credential,
        "secret": audit.reveal(issued, by=request.user, ip=client_ip(request)),
        "api_me_url": request.build_absolute_uri(reverse("api_me")),
    }


def with_secret(response):
    response["Cache-Control"] = "no-store"
    response["HX-Trigger"] = API_KEYS_CHANGED
    return response


@never_cache
@developer_required
@require_GET
def api_keys_page(request):
    """The create form and the list (htmx: the list alone)."""
    context = key_list_context(request) if wants_fragment(request) else page_context(request)
    return render_page_or_fragment(request, PAGE, LIST, context)


@sensitive_variables()
@developer_required
@require_POST
def api_key_create(request):
    form = key_create_form(request, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            issued = services.create_api_key(
                issuer=request.membership, name=data["name"], scopes=data["scope_names"], reach=data["reach"],
                owner=data.get("owner"), allow_jwt=data["allow_jwt"], ip=client_ip(request),
            )
        except Refused as exc:
            form.add_service_error(exc)
        else:
            context = {"form": key_create_form(request), **secret_context(request, issued)}
            if not wants_fragment(request):
                context.update(key_list_context(request))
            return with_secret(render_page_or_fragment(request, PAGE, CREATE, context, status=201))
    context = {"form": form}
    if not wants_fragment(request):
        context.update(key_list_context(request))
    return render_page_or_fragment(request, PAGE, CREATE, context, status=400)


@developer_required
@require_POST
def api_key_rename(request, key_id):
    key = get_visible_key(request, key_id)
    form = ApiKeyRenameForm(request.POST)
    if form.is_valid():
        try:
            services.rename_api_key(key=key, name=form.cleaned_data["name"], by=request.user, ip=client_ip(request))
        except Refused as exc:
            form.add_service_error(exc)
        else:
            if not wants_fragment(request):
                messages.success(request, "API key renamed.")
                return redirect("api_keys", org_id=request.organization.public_id)
            response = render(request, LIST, key_list_context(request))
            response["HX-Trigger"] = API_KEYS_CHANGED
            return response
    return list_refusing(request, form)


@sensitive_variables()
@developer_required
@require_POST
def api_key_rotate(request, key_id):
    """A new secret under the same key id, shown once; the old one works for the grace period picked."""
    key = get_visible_key(request, key_id)
    form = ApiKeyRotateForm(request.POST)
    if form.is_valid():
        try:
            issued = services.rotate_api_key(key=key, grace=form.cleaned_data["grace"], by=request.user,
                                             ip=client_ip(request))
        except Refused as exc:
            form.add_service_error(exc)
        else:
            context = {**secret_context(request, issued), "rotated": True}
            if wants_fragment(request):
                return with_secret(render(request, "tokens/api_keys/partials/api_key_secret.html", context,
                                          status=201))
            return with_secret(render(request, PAGE, page_context(request, **context), status=201))
    return list_refusing(request, form)


@developer_required
@require_http_methods(["GET", "POST"])
def api_key_delete(request, key_id):
    """GET asks "This cannot be undone"; only the POST from that confirmation deletes."""
    key = get_visible_key(request, key_id)
    if request.method == "GET":
        return render_page_or_fragment(
            request, "tokens/api_keys/api_key_confirm_delete.html",
            "tokens/api_keys/partials/api_key_delete_confirm.html", {"key": key},
        )
    services.revoke_api_key(key=key, by=request.user, ip=client_ip(request))
    if not wants_fragment(request):
        messages.success(request, f"API key “{key.name}” ({key.key_id}) deleted.")
        return redirect("api_keys", org_id=request.organization.public_id)
    response = render(request, "tokens/api_keys/partials/api_key_deleted.html", {"key": key})
    response["HX-Trigger"] = API_KEYS_CHANGED
    return response
