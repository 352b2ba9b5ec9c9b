"""The scope catalog: the one place scopes are declared.

It drives the portal's scope picker, the permission classes, the OpenAPI
document, the scopes page of the docs and django-oauth-toolkit's scope backend.
Scopes read `action.resource` (Medchat's style); the role names guest < agent <
bot < admin are scopes too, each standing for a fixed, cascading bundle.
"""

from dataclasses import dataclass
from functools import lru_cache

from oauth2_provider.scopes import BaseScopes


@dataclass(frozen=True)
class Scope:
    name: str
    description: str


@dataclass(frozen=True)
class Domain:
    name: str
    scopes: tuple


DOMAINS = (
    Domain(
        "Account",
        (Scope("read.me", "Read your own user profile and organizations"),),
    ),
    Domain(
        "Developer",
        (
            Scope("read.tokens", "List and read personal access tokens (never their secrets)"),
            Scope("create.tokens", "Create personal access tokens"),
            Scope("update.tokens", "Rename and rotate personal access tokens"),
            Scope("delete.tokens", "Revoke personal access tokens"),
        ),
    ),
)

SCOPES = {scope.name: scope for domain in DOMAINS for scope in domain.scopes}
DOMAIN_OF = {scope.name: domain.name for domain in DOMAINS for scope in domain.scopes}

# What developer access adds to a membership, whatever its role (Medchat's Developer role).
DEVELOPER_SCOPES = frozenset({"read.tokens", "create.tokens", "update.tokens", "delete.tokens"})

_GUEST = frozenset({"read.me"})
_AGENT = _GUEST | frozenset()
_BOT = _AGENT | frozenset()
_ADMIN = _BOT | DEVELOPER_SCOPES

ROLE_BUNDLES = {"guest": _GUEST, "agent": _AGENT, "bot": _BOT, "admin": _ADMIN}

ROLE_DESCRIPTIONS = {
    "guest": "Everything a guest may do",
    "agent": "Everything an agent may do (includes guest)",
    "bot": "Everything a bot may do (includes agent and guest)",
    "admin": "Everything an admin may do (includes every other role)",
}


def is_known(name):
    return name in SCOPES or name in ROLE_BUNDLES


@lru_cache(maxsize=4096)
def expand(scope_string):
    """The fine scopes a space-separated scope string stands for (role names expanded)."""
    fine = set()
    for name in scope_string.split():
        if name in ROLE_BUNDLES:
            fine |= ROLE_BUNDLES[name]
        elif name in SCOPES:
            fine.add(name)
    return frozenset(fine)


@lru_cache(maxsize=64)
def allowed_for(role, developer_access):
    """What a membership with this role (and developer access or not) may ever do."""
    allowed = ROLE_BUNDLES.get(role, frozenset())
    if developer_access or role == "admin":
        allowed = allowed | DEVELOPER_SCOPES
    return allowed


@lru_cache(maxsize=4096)
def effective(scope_string, role, developer_access):
    """A credential's scopes intersected with what its owner's membership allows today."""
    return expand(scope_string) & allowed_for(role, developer_access)


def ordered(names):
    """Scope names in catalog order, for display."""
    position = {name: i for i, name in enumerate(SCOPES)}
    return sorted(names, key=lambda n: position.get(n, len(position)))


class CatalogScopes(BaseScopes):
    """django-oauth-toolkit's scope backend, fed from the catalog."""

    def get_all_scopes(self):
        return {**{s.name: s.description for s in SCOPES.values()}, **ROLE_DESCRIPTIONS}

    def get_available_scopes(self, application=None, request=None, *args, **kwargs):
        return list(SCOPES) + list(ROLE_BUNDLES)

    def get_default_scopes(self, application=None, request=None, *args, **kwargs):
        return ["read.me"]
