"""The table of credential kinds: what each shared feature needs to know about a kind, in
one place (as healthchecks keeps its integrations in one table).

Each kind describes itself in its own folder (`tokens/<kind>/kind.py`, a list `KINDS` of
`Kind`); `TABLE` below names those folders, and `load()` (TokensConfig.ready) reads them by
name, so this root module never imports a kind and a kind may use every root module. The
offboarding review, leak reports, notices, webhooks, the credential inventory and the usage
pages read the table instead of keeping their own lists.

Adding a kind: its folder, with a `kind.py`, and one line in `TABLE`.
"""

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module

from django.core.exceptions import ImproperlyConfigured

TABLE = (
    "tokens.personal",
    "tokens.api_keys",
    "tokens.oauth",
    "tokens.login",
)


def _the_user(credential):
    return credential.user or credential.created_by


@dataclass(frozen=True)
class Kind:
    name: str  # a CredentialKind value: the audit log's subject, Principal.kind, the API's `kind`
    label: str  # one credential, as a list row says it ("API key")
    plural: str  # the inventory's filter ("API keys")
    objects: Callable  # () -> every credential of the kind (a QuerySet)
    owner: Callable = _the_user  # the person (or service account) a credential acts as
    # The owner's pages: (list URL name, detail URL name, the detail's id keyword).
    pages: tuple = ("developer_home", None, None)
    # Created on purpose by a person: its creation, rotation and revocation are announced
    # (email notice and webhook). Kinds minted at every login or refresh are not.
    announced: bool = False
    reminded: bool = False  # its owner chose its expiry, so it gets expiry reminders
    # (organization, q, now, org_public_id) -> inventory rows (tokens.inventory.Row)
    inventory: Callable | None = None
    # (membership) -> the member's live credentials, for the offboarding review
    held_by: Callable | None = None
    revoke: Callable | None = None  # (credential, *, by, ip=None): the review's revoke
    reissue: Callable | None = None  # (credential, *, issuer, owner, ip=None) -> Issued
    revoke_leaked: Callable | None = None  # (raw) -> tokens.leaks.Leaked | None
    # (now) -> its live credentials when usage counts each on its own (tokens.usage)
    counted: Callable | None = None
    related: tuple = ("organization", "user", "created_by")  # what messages about one read

    def credentials(self):
        """Every credential of the kind, with what messages about it read."""
        return self.objects().select_related(*self.related)


_kinds = {}


def load():
    """Read every kind's description (once; TokensConfig.ready)."""
    if _kinds:
        return
    for package in TABLE:
        for kind in import_module(f"{package}.kind").KINDS:
            if kind.name in _kinds:
                raise ImproperlyConfigured(f"Two kinds are called {str(kind.name)!r}.")
            _kinds[str(kind.name)] = kind


def get(name):
    """The kind called `name`, or None (a subject that is no credential: a member, a policy)."""
    return _kinds.get(str(name))


def every():
    return list(_kinds.values())


def where(attribute):
    """The kinds that have `attribute` (a feature they take part in)."""
    return [kind for kind in _kinds.values() if getattr(kind, attribute)]
