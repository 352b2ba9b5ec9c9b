"""A row of the organization's credential inventory (Admin › Credentials): each kind builds
its own (`Kind.inventory`) from its models, and the page shows them side by side."""

import datetime
import operator
from dataclasses import dataclass, field
from functools import reduce

from django.db.models import Q
from django.urls import reverse

EXPIRING_SOON = datetime.timedelta(days=7)

STATES = [
    ("active", "Active"),
    ("expiring", "Expiring soon"),
    ("expired", "Expired"),
    ("rotating", "Rotating"),
]


@dataclass
class Row:
    kind: str
    kind_label: str
    name: str
    owner: object  # a User, or None when the member is gone
    scopes: list
    created: datetime.datetime
    last_used: datetime.datetime | None
    expires: datetime.datetime | None
    state: str  # active, expiring, expired, rotating
    revoke_url: str = ""
    revoke_label: str = "Revoke"
    note: str = ""
    extra: dict = field(default_factory=dict)
    # What usage counts it under (kind, id), for its 24 h sparkline; None: not counted on its own.
    usage_key: tuple | None = None
    sparkline: list = field(default_factory=list)

    @classmethod
    def of(cls, kind, label, credential, *, delete, org_id, **fields):
        """The row of a credential usage counts on its own (its name, scopes, times and
        sparkline read from it), deleted through its kind's confirmation page `delete`."""
        fields.setdefault("created", getattr(credential, "created", None) or credential.created_at)
        fields.setdefault("expires", getattr(credential, "expires", None))
        fields.setdefault("state", "active")
        return cls(
            kind=kind,
            kind_label=label,
            name=credential.name,
            scopes=getattr(credential, "scope_list", []),
            last_used=credential.last_used_at,
            revoke_url=reverse(delete, args=[org_id, credential.pk]),
            revoke_label="Delete",
            usage_key=(str(kind), credential.pk),
            **fields,
        )


def matching(rows, q, *fields):
    """The `rows` one of whose `fields` contains `q`, in any case; all of them when q is empty."""
    if not q:
        return rows
    return rows.filter(reduce(operator.or_, (Q(**{f"{f}__icontains": q}) for f in fields)))


def state(expires, now, rotating=False):
    if expires is not None and expires <= now:
        return "expired"
    if rotating:
        return "rotating"
    if expires is not None and expires - now <= EXPIRING_SOON:
        return "expiring"
    return "active"
