"""Admin › Webhooks in the portal: create, edit, pause, test, rotate the signing secret,
delete, and the delivery log. Every write calls the service the API calls (same rules, same
audit); webhooks are reached through the admin's organization, so another's answer 404.

Creating and rotating are Post/Redirect/Get (tokens.handoff): the POST holds the new signing
secret sealed for the one GET of `webhook_secret`, which shows it once.
"""

from functools import wraps

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.decorators import admin_required
from accounts.errors import Refused
from accounts.http import client_ip, mark_form_errors, no_store
from tokens import handoff, pages

from . import deliveries, services
from .forms import WebhookForm

DELIVERIES_PER_PAGE = 50


def _webhook(request, webhook_id):
    return get_object_or_404(request.organization.webhooks, pk=webhook_id)


def _url(request, name, webhook):
    return reverse(
        name, kwargs={"org_id": request.organization.public_id, "webhook_id": webhook.pk}
    )


def _slot(webhook):
    return f"webhook:{webhook.pk}"


def _list_page(request, form, status=200):
    hooks = request.organization.webhooks.order_by("-created_at", "-id")
    response = render(
        request,
        "chats/webhooks.html",
        {"webhooks": hooks, "form": form, "form_open": status != 200},
        status=status,
    )
    return mark_form_errors(response) if status == 400 else response


@require_GET
@admin_required
def webhooks(request):
    """Every webhook of the organization, and the form that creates one (folded away)."""
    return _list_page(request, WebhookForm())


@sensitive_variables()
@require_POST
@admin_required
def webhook_create(request):
    submission = handoff.Submission(request)
    if submission.repeated:
        return submission.redirect_to_first(
            reverse("webhooks", kwargs={"org_id": request.organization.public_id})
        )
    form = WebhookForm(request.POST)
    if form.is_valid():
        try:
            issued = services.create_webhook(
                organization=request.organization,
                by=request.user,
                ip=client_ip(request),
                **form.cleaned_data,
            )
        except Refused as refused:
            form.add_service_error(refused)
        else:
            handoff.hold(request, issued, slot=_slot(issued.credential), how="created")
            return submission.done(_url(request, "webhook_secret", issued.credential))
    submission.release()
    return _list_page(request, form, status=400)


@sensitive_variables()
@require_GET
@admin_required
def webhook_secret(request, webhook_id):
    """The result page of a creation or rotation: the signing secret once, then "already shown"."""
    webhook = _webhook(request, webhook_id)
    secret, note = pages.sealed_secret(request, webhook, _slot(webhook))
    context = {
        "webhook": webhook,
        "form": _edit_form(webhook),
        "secret": secret,
        "already_shown": not secret,
        "rotated": note.get("how") == "rotated",
    }
    return no_store(render(request, "chats/webhook_detail.html", context))


def _edit_form(webhook):
    return WebhookForm(initial={"url": webhook.url, "event_categories": webhook.event_categories})


@require_GET
@admin_required
def webhook_detail(request, webhook_id):
    webhook = _webhook(request, webhook_id)
    return render(
        request, "chats/webhook_detail.html", {"webhook": webhook, "form": _edit_form(webhook)}
    )


@require_POST
@admin_required
def webhook_update(request, webhook_id):
    webhook = _webhook(request, webhook_id)
    form = WebhookForm(request.POST)
    if form.is_valid():
        try:
            services.update_webhook(
                webhook=webhook, by=request.user, ip=client_ip(request), **form.cleaned_data
            )
        except Refused as refused:
            form.add_service_error(refused)
        else:
            messages.success(request, f"Webhook {webhook.url} saved.")
            return redirect(_url(request, "webhook_detail", webhook))
    webhook.refresh_from_db()
    response = render(
        request, "chats/webhook_detail.html", {"webhook": webhook, "form": form}, status=400
    )
    return mark_form_errors(response)


def _set_active(request, webhook_id, active):
    webhook = _webhook(request, webhook_id)
    services.update_webhook(webhook=webhook, by=request.user, ip=client_ip(request), active=active)
    if active:
        messages.success(request, f"Webhook {webhook.url} resumed: new events are sent to it.")
    else:
        messages.success(request, f"Webhook {webhook.url} paused: no new events are sent to it.")
    return redirect(_url(request, "webhook_detail", webhook))


@require_POST
@admin_required
def webhook_pause(request, webhook_id):
    return _set_active(request, webhook_id, False)


@require_POST
@admin_required
def webhook_resume(request, webhook_id):
    return _set_active(request, webhook_id, True)


@require_POST
@admin_required
def webhook_test(request, webhook_id):
    webhook = _webhook(request, webhook_id)
    delivery = services.send_test_event(webhook=webhook, by=request.user, ip=client_ip(request))
    messages.success(
        request, f"Test event sent to {webhook.url} (delivery {delivery.pk}); its result is below."
    )
    return redirect(_url(request, "webhook_deliveries", webhook))


def _confirmed_first(template):
    """GET shows `template`, which says what the action does; only the POST from it acts."""

    def decorate(act):
        @require_http_methods(["GET", "POST"])
        @admin_required
        @wraps(act)
        def view(request, webhook_id):
            webhook = _webhook(request, webhook_id)
            if request.method == "GET":
                return render(request, template, {"webhook": webhook})
            return act(request, webhook)

        return view

    return decorate


@sensitive_variables()
@_confirmed_first("chats/webhook_rotate.html")
def webhook_rotate(request, webhook):
    """Only the POST from the confirmation makes a new secret, shown once on the next page."""
    submission = handoff.Submission(request)
    if submission.repeated:
        return submission.redirect_to_first(_url(request, "webhook_detail", webhook))
    issued = services.regenerate_webhook_secret(
        webhook=webhook, by=request.user, ip=client_ip(request)
    )
    handoff.hold(request, issued, slot=_slot(webhook), how="rotated")
    return submission.done(_url(request, "webhook_secret", webhook))


@_confirmed_first("chats/webhook_delete.html")
def webhook_delete(request, webhook):
    """The confirmation says "This cannot be undone"; its POST deletes."""
    url = webhook.url
    services.delete_webhook(webhook=webhook, by=request.user, ip=client_ip(request))
    messages.success(request, f"Webhook {url} deleted. Nothing more is sent to it.")
    return redirect("webhooks", org_id=request.organization.public_id)


@require_GET
@admin_required
def webhook_deliveries(request, webhook_id):
    """One webhook's delivery log, newest first: event, status, attempts, response time, next retry."""
    webhook = _webhook(request, webhook_id)
    log = webhook.deliveries.select_related("event").order_by("-created_at", "-id")
    page = Paginator(log, DELIVERIES_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "chats/webhook_deliveries.html", {"webhook": webhook, "page": page})


@require_POST
@admin_required
def webhook_redeliver(request, webhook_id, delivery_id):
    webhook = _webhook(request, webhook_id)
    delivery = deliveries.redeliver(get_object_or_404(webhook.deliveries, pk=delivery_id))
    messages.success(request, f"Delivery {delivery.pk} will be sent again now.")
    return redirect(_url(request, "webhook_deliveries", webhook))
