"""Reach: what a credential may see at all, before scopes decide what it may do.

app (the default) reaches one organization; account every organization of its
group; and a credential limited to one contact (an appUser credential, or any
guest's, tied to the contact they chat as) reaches only that contact's own
conversations and messages. Anything out of reach answers 404.
"""

from django.db.models import Q

from .models import Contact


def organizations(principal, field="organization"):
    """A filter on `field` (an Organization relation) for the organizations in reach."""
    if principal.reach == "account" and principal.group_id:
        return Q(**{f"{field}__group_id": principal.group_id})
    return Q(**{f"{field}_id": principal.organization_id})


def contact_filter(principal):
    """None when the credential is not limited to one contact; else a filter selecting that contact."""
    if principal.reach == "appUser":
        return Q(organization_id=principal.organization_id, external_id=principal.app_user_id)
    if principal.role == "guest":
        return Q(organization_id=principal.organization_id, user_id=principal.user_id)
    return None


def own_contact(principal):
    limit = contact_filter(principal)
    return None if limit is None else Contact.objects.filter(limit).first()


def limit_to_contact(queryset, principal, contact_field):
    """Apply the one-contact rule; resources with no contact are out of reach for such credentials."""
    limit = contact_filter(principal)
    if limit is None:
        return queryset
    if contact_field is None:
        return queryset.none()
    return queryset.filter(**{f"{contact_field}__in": Contact.objects.filter(limit)})
