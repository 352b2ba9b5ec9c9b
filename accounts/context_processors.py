from .models import Invitation


def membership(request):
    """The current membership, the caller's organizations (for the org switcher) and the
    invitations waiting for them (evaluated only by the pages that show them)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    current = getattr(request, "membership", None)
    return {
        "membership": current,
        "organization": current.organization if current else None,
        "memberships": lambda: list(user.memberships.with_org()),
        "pending_invitations": lambda: list(Invitation.objects.pending_for(user)),
    }
