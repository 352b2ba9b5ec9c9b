"""Portal gates: who may open a page of an organization.

Each resolves the organization from the URL through the caller's own
membership, so another organization's page is a 404, never a 403.
"""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

from .models import Membership


def _gate(check=None, denied=""):
    def decorator(view):
        @login_required
        @wraps(view)
        def wrapper(request, *args, org_id, **kwargs):
            membership = Membership.objects.of_user_in(request.user, org_id)
            # Set before the check, so a 403 page shows the organization and who can grant access.
            request.membership = membership
            request.organization = membership.organization
            if check is not None and not check(membership):
                raise PermissionDenied(denied)
            request.session["org_id"] = org_id
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


member_required = _gate()
developer_required = _gate(
    lambda m: m.has_developer_access, "The developer portal needs developer access."
)
admin_required = _gate(lambda m: m.is_admin, "Only admins of this organization may open this page.")
