"""A row of the organization's credential inventory (Admin › Credentials): each kind builds
its own (`Kind.inventory`) from its models, and the page shows them side by side."""

import datetime
from dataclasses import dataclass, field

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


def state(expires, now, rotating=False):
    if expires is not None and expires <= now:
        return "expired"
    if rotating:
        return "rotating"
    if expires is not None and expires - now <= EXPIRING_SOON:
        return "expiring"
    return "active"
