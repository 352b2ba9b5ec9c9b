from .models import Invitation


def _section(request):
    """Which top-level section the page belongs to, for `aria-current` in the header."""
    match = getattr(request, "resolver_match", None)
    if match is not None and match.url_name == "org_home":
        return "overview"
    if "/admin/" in request.path:
        return "admin"
    if "/developer/" in request.path:
        return "developer"
    return ""


def membership(request):
    """The current membership, the caller's organizations (for the org switcher) and the
    invitations waiting for them (evaluated only by the pages that show them)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    current = getattr(request, "membership", None)
    if current is None and request.session.get("org_id"):
        # A page outside any organization (the scopes reference, invitations, an error):
        # the header still shows the organization last used, so the way back is one click.
        current = (
            user.memberships.with_org()
            .filter(organization__public_id=request.session["org_id"])
            .first()
        )
    return {
        "membership": current,
        "organization": current.organization if current else None,
        "memberships": lambda: list(user.memberships.with_org()),
        "pending_invitations": lambda: list(Invitation.objects.pending_for(user)),
        "section": _section(request),
    }
