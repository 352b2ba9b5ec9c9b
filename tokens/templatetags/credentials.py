"""Template tags of the credential pages."""

from django import template
from django.utils import timezone
from django.utils.html import format_html

from ..forms import acts_as
from ..handoff import SUBMISSION_FIELD, new_submission_id

register = template.Library()


@register.simple_tag
def submission_field():
    """A fresh one-time id for a form that creates or changes a secret (tokens.handoff.Submission)."""
    return format_html(
        '<input type="hidden" name="{}" value="{}">', SUBMISSION_FIELD, new_submission_id()
    )


@register.filter
def days_until(moment):
    """Whole days from today to `moment`'s day (negative once past), in the current time zone."""
    if moment is None:
        return None
    return (timezone.localtime(moment).date() - timezone.localdate()).days


EXPIRING_SOON_DAYS = 7


@register.simple_tag
def expiry_of(moment):
    """How an expiry reads: {"expired", "soon" (within 7 days), "phrase": "in 7 days"/"tomorrow"/"today"}."""
    if moment is None:
        return None
    days = days_until(moment)
    expired = moment <= timezone.now()
    phrase = {0: "today", 1: "tomorrow"}.get(days, f"in {days} days")
    return {
        "expired": expired,
        "soon": not expired and days <= EXPIRING_SOON_DAYS,
        "phrase": phrase,
    }


register.filter("acts_as", acts_as)


@register.filter
def is_future(moment):
    return moment is not None and moment > timezone.now()


@register.simple_tag(takes_context=True)
def propagation_receipt(context, verb):
    """ "Revoked on all 4 workers in 6 ms": waits (bounded) for every live process to confirm
    what this request changed; nothing when it changed nothing a cache may hold."""
    from ..cache.propagation import receipt_for

    request = context.get("request")
    receipt = receipt_for(request) if request is not None else None
    if receipt is None:
        return ""
    request._keyward_receipt_said = True
    return format_html('<p class="receipt">{}</p>', receipt.sentence(verb))
