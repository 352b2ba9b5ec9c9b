def membership(request):
    """The current membership and the caller's organizations, for the org switcher."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    current = getattr(request, "membership", None)
    return {
        "membership": current,
        "organization": current.organization if current else None,
        "memberships": lambda: list(user.memberships.with_org()),
    }
