"""Portal pages: the developer's OAuth clients, and the apps a member authorized.

The personal-token pages' standard: a view reads top to bottom (who may do this, fetch
through the organization or membership, call tokens.oauth.services, render), and answers
its fragment to htmx (templates/tokens/oauth/partials/) or the whole page. Registering a
client and regenerating its secret are Post/Redirect/Get (tokens.handoff): the POST holds
the new secret sealed for the one GET of the client's result page (`no-store`).
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.decorators import developer_required, member_required
from accounts.errors import Refused
from accounts.http import (
    client_ip,
    no_store,
    render_page_or_fragment,
    return_url,
    wants_fragment,
)

from .. import handoff
from ..cache import propagation
from ..models import AccessToken, Application
from ..usage.views import attach_sparklines, usage_context
from . import services
from .endpoints import issuer_origin
from .forms import OAuthClientForm

CLIENTS_PER_PAGE = 25
GRANTS_PER_PAGE = 50
# Fired on <body> after a write; the client list listens for it and reloads itself.
CLIENTS_CHANGED = "oauth-clients-changed"
PAGE = "tokens/oauth/clients.html"
LIST = "tokens/oauth/partials/client_list.html"
CREATE = "tokens/oauth/partials/client_create.html"
DETAIL_PAGE = "tokens/oauth/client_detail.html"
DETAIL = "tokens/oauth/partials/client_detail.html"
REGENERATE_PAGE = "tokens/oauth/client_regenerate.html"
REGENERATE = "tokens/oauth/partials/client_regenerate_confirm.html"
DELETE_PAGE = "tokens/oauth/client_delete.html"
DELETE = "tokens/oauth/partials/client_delete_confirm.html"


def _visible_clients(request):
    return Application.objects.visible_to(request.membership)


def _get_client(request, client_pk):
    return get_object_or_404(_visible_clients(request), pk=client_pk)


def _my_grants(request):
    """The member's own grants: the portal never reaches anyone else's, admins included."""
    return AccessToken.objects.oauth_grants(
        organization_id=request.organization.pk, user_id=request.user.pk
    )


def _list_context(request, **extra):
    paginator = Paginator(_visible_clients(request), CLIENTS_PER_PAGE)
    return {
        "page": attach_sparklines(paginator.get_page(request.GET.get("page")), "oauth_client"),
        **extra,
    }


def _detail_context(request, application, form=None, **extra):
    return {
        "application": application,
        "form": form or OAuthClientForm(membership=request.membership, application=application),
        "token_count": AccessToken.objects.oauth_grants(organization_id=application.organization_id)
        .filter(application=application)
        .count(),
        # The issuer's endpoints, as discovery names them.
        "authorize_url": issuer_origin() + reverse("oauth2_provider:authorize"),
        "token_url": issuer_origin() + reverse("oauth2_provider:token"),
        **extra,
    }


def _slot(application):
    return f"oauth_client:{application.pk}"


def _client_url(request, name, application):
    return reverse(
        name, kwargs={"org_id": request.organization.public_id, "client_pk": application.pk}
    )


# --- the developer's OAuth clients --------------------------------------------------


@developer_required
@require_GET
def client_list(request):
    """Developer › OAuth clients: the list, and "Register client" folded away (htmx: the list alone)."""
    context = _list_context(request)
    if not wants_fragment(request):
        context["create_form"] = OAuthClientForm(membership=request.membership)
    return render_page_or_fragment(request, PAGE, LIST, context)


@developer_required
@require_http_methods(["GET", "POST"])
def client_create(request):
    """GET: the page with the form open (htmx: the form alone). POST: register, then 303 to the result page."""
    if request.method == "GET":
        context = {"create_form": OAuthClientForm(membership=request.membership), "form_open": True}
        if not wants_fragment(request):
            context.update(_list_context(request))
        return render_page_or_fragment(request, PAGE, CREATE, context)
    submission = handoff.Submission(request)
    if submission.repeated:
        return submission.redirect_to_first(
            reverse("oauth_clients", kwargs={"org_id": request.organization.public_id})
        )
    form = OAuthClientForm(request.POST, membership=request.membership)
    if form.is_valid():
        data = form.cleaned_data
        try:
            issued = services.create_client(
                membership=request.membership,
                name=data["name"],
                redirect_uris=data["redirect_uris"],
                client_type=data["client_type"],
                allow_introspection=data.get("allow_introspection", False),
                allowed_origins=data["allowed_origins"],
                ip=client_ip(request),
            )
        except Refused as exc:
            form.add_service_error(exc)
        else:
            application = issued.credential
            if issued.secret is None:  # a public client: nothing to show once
                messages.success(request, f"Client “{application.name}” registered.")
                return submission.done(_client_url(request, "oauth_client_detail", application))
            handoff.hold(request, issued, slot=_slot(application), how="created")
            return submission.done(_client_url(request, "oauth_client_secret", application))
    submission.release()
    context = {"create_form": form, "form_open": True}
    if not wants_fragment(request):
        context.update(_list_context(request))
    return render_page_or_fragment(request, PAGE, CREATE, context, status=400)


@sensitive_variables()
@developer_required
@require_GET
def client_secret(request, client_pk):
    """The result page of a registration or a regeneration: the secret once, then "already shown"."""
    application = _get_client(request, client_pk)
    shown = handoff.take(request, application, slot=_slot(application), ip=client_ip(request))
    secret, note = shown if shown else (None, {})
    context = _detail_context(
        request,
        application,
        secret=secret,
        already_shown=not secret,
        created=note.get("how") == "created",
        regenerated=note.get("how") == "regenerated",
    )
    if wants_fragment(request) and context["created"]:
        # The register form asked: answer its fragment, the new client (and secret) on top.
        context["create_form"] = OAuthClientForm(membership=request.membership)
        response = render(request, CREATE, context)
    else:
        response = render_page_or_fragment(request, DETAIL_PAGE, DETAIL, context)
    if wants_fragment(request):
        response["HX-Replace-Url"] = _client_url(request, "oauth_client_detail", application)
        if secret:
            response["HX-Trigger"] = CLIENTS_CHANGED
    return no_store(response)


@developer_required
@require_GET
def client_detail(request, client_pk):
    application = _get_client(request, client_pk)
    usage = usage_context(request, "oauth_client", application)
    return render_page_or_fragment(
        request, DETAIL_PAGE, DETAIL, _detail_context(request, application, **usage)
    )


@developer_required
@require_POST
def client_update(request, client_pk):
    application = _get_client(request, client_pk)
    form = OAuthClientForm(request.POST, membership=request.membership, application=application)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.update_client(
                application=application,
                by=request.user,
                membership=request.membership,
                name=data["name"],
                redirect_uris=data["redirect_uris"],
                allow_introspection=data.get("allow_introspection"),
                allowed_origins=data["allowed_origins"],
                ip=client_ip(request),
            )
        except Refused as exc:
            form.add_service_error(exc)
        else:
            if not wants_fragment(request):  # in place, the fragment says "Client saved."
                messages.success(request, "Client saved.")
                return redirect(
                    "oauth_client_detail",
                    org_id=request.organization.public_id,
                    client_pk=application.pk,
                )
            response = render(request, DETAIL, _detail_context(request, application, saved=True))
            response["HX-Trigger"] = CLIENTS_CHANGED
            return response
    application.refresh_from_db()
    return render_page_or_fragment(
        request, DETAIL_PAGE, DETAIL, _detail_context(request, application, form=form), status=400
    )


@developer_required
@require_GET
def client_regenerate_confirm(request, client_pk):
    """Regenerate, step 1: name the consequence (the current secret stops working at once).

    Its own URL, not a GET of the POST's: a browser drops its cached copy of a URL once it
    POSTs to it, and back must bring this form back with its submission id."""
    application = _get_client(request, client_pk)
    return render_page_or_fragment(
        request, REGENERATE_PAGE, REGENERATE, _detail_context(request, application)
    )


@sensitive_variables()
@developer_required
@require_POST
def client_regenerate_secret(request, client_pk):
    """Regenerate, step 2: a new secret, shown once on the client's result page."""
    application = _get_client(request, client_pk)
    submission = handoff.Submission(request)
    if submission.repeated:
        return submission.redirect_to_first(
            _client_url(request, "oauth_client_detail", application)
        )
    try:
        issued = services.regenerate_secret(
            application=application, by=request.user, ip=client_ip(request)
        )
    except Refused as exc:
        submission.release()
        context = _detail_context(request, application, error=exc.message)
        return render_page_or_fragment(request, DETAIL_PAGE, DETAIL, context, status=400)
    handoff.hold(request, issued, slot=_slot(application), how="regenerated")
    return submission.done(_client_url(request, "oauth_client_secret", application))


@developer_required
@require_http_methods(["GET", "POST"])
def client_delete(request, client_pk):
    """GET asks for confirmation; POST deletes the client and every token issued to it."""
    application = _get_client(request, client_pk)
    if request.method == "GET":
        context = {**_detail_context(request, application), "return_to": return_url(request)}
        return render_page_or_fragment(request, DELETE_PAGE, DELETE, context)
    name = application.name
    services.delete_client(application=application, by=request.user, ip=client_ip(request))
    list_url = reverse("oauth_clients", kwargs={"org_id": request.organization.public_id})
    if not wants_fragment(request) or return_url(request):  # else the fragment says so
        messages.success(
            request, f"Client “{name}” deleted. Every token issued to it stopped working."
        )
        propagation.confirm(request, "Revoked")
        return redirect(return_url(request) or list_url)
    response = render(request, "tokens/oauth/partials/client_deleted.html", {"name": name})
    response["HX-Trigger"] = CLIENTS_CHANGED
    response["HX-Replace-Url"] = list_url
    return response


# --- the member's grants to clients ----------------------------------------------------


@member_required
@require_GET
def grant_list(request):
    """Apps you authorized in this organization: every member sees (and revokes) their own."""
    page = Paginator(_my_grants(request), GRANTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "tokens/oauth/grants.html", {"page": page})


@member_required
@require_http_methods(["GET", "POST"])
def grant_revoke(request, token_pk):
    """GET asks, naming the consequence; the POST revokes the app's access at once."""
    token = get_object_or_404(_my_grants(request).select_related("organization"), pk=token_pk)
    if request.method == "GET":
        return render_page_or_fragment(
            request,
            "tokens/oauth/grant_revoke.html",
            "tokens/oauth/partials/grant_revoke_confirm.html",
            {"token": token},
        )
    services.revoke_grant(token=token, by=request.user, ip=client_ip(request))
    if request.htmx:
        return render(request, "tokens/oauth/partials/grant_revoked.html", {"token": token})
    messages.success(request, f"Access for “{token.application.name}” revoked.")
    return redirect("oauth_grants", org_id=request.organization.public_id)
