from django import template

from ..limits import views

register = template.Library()


@register.inclusion_tag("tokens/limits/partials/limits_panel.html", takes_context=True)
def limits_panel(context, kind, credential=None):
    """The limits editor of a credential of `kind` (the organization's default without one)."""
    return views.panel_context(context["request"], kind, credential)
