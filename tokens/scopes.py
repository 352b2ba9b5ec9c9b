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
        (
            Scope("read.me", "Read your own user profile and organizations"),
            Scope("update.me", "Update your own user profile"),
        ),
    ),
    Domain(
        "Organizations",
        (
            Scope("read.organizations", "List and read organizations in reach"),
            Scope("create.organizations", "Create organizations"),
            Scope("update.organizations", "Update organizations"),
            Scope("delete.organizations", "Delete organizations"),
            Scope("read.organization_groups", "List and read organization groups"),
            Scope("create.organization_groups", "Create organization groups"),
            Scope("update.organization_groups", "Update organization groups"),
            Scope("delete.organization_groups", "Delete organization groups"),
        ),
    ),
    Domain(
        "Users",
        (
            Scope("read.users", "Read users (limited scope: id and name)"),
            Scope("read.my_orgs.users", "Read users (full scope: email, role, developer access)"),
            Scope("create.users", "Add users to the organization"),
            Scope("update.users", "Update users' details and roles"),
            Scope("delete.users", "Remove users from the organization"),
            Scope(
                "read.credential_reviews",
                "Read the offboarding review: credentials of members who left or lost access",
            ),
            Scope(
                "update.credential_reviews",
                "Decide on credentials in the offboarding review: revoke, keep or re-issue",
            ),
        ),
    ),
    Domain(
        "Live Chats",
        (
            Scope("read.chats", "List conversations"),
            Scope("read.chat_details", "Read a conversation's details (guests: only their own)"),
            Scope("create.chats", "Start conversations"),
            Scope("update.chats", "Update conversations"),
            Scope("delete.chats", "Delete conversations"),
            Scope("create.chat_attributes", "Create chat attributes"),
            Scope("update.chat_attributes", "Update chat attributes"),
            Scope("read.messages", "List and read messages"),
            Scope("create.messages", "Post messages (guests: in their own conversation)"),
            Scope("update.messages", "Edit messages"),
            Scope("delete.messages", "Delete messages"),
        ),
    ),
    Domain(
        "Chat Bots",
        (
            Scope(
                "impersonate.bot",
                "Post messages on behalf of the organization's bot (service account)",
            ),
        ),
    ),
    Domain(
        "Contacts",
        (
            Scope("read.contacts", "List contacts (end users)"),
            Scope("read.contact_details", "Read a contact's details"),
            Scope("create.contacts", "Create contacts"),
            Scope("update.contacts", "Update contacts"),
            Scope("delete.contacts", "Delete contacts"),
        ),
    ),
    Domain(
        "Knowledge Base",
        (
            Scope("read.knowledge_items", "List and read knowledge items"),
            Scope("create.knowledge_items", "Create knowledge items"),
            Scope("update.knowledge_items", "Update knowledge items"),
            Scope("delete.knowledge_items", "Delete knowledge items"),
        ),
    ),
    Domain(
        "Forms",
        (
            Scope("read.forms", "List forms"),
            Scope("read.form_details", "Read a form's definition"),
            Scope("create.forms", "Create forms"),
            Scope("update.forms", "Update forms"),
            Scope("delete.forms", "Delete forms"),
        ),
    ),
    Domain(
        "Services",
        (
            Scope("read.services", "List and read services"),
            Scope("create.services", "Create services"),
            Scope("update.services", "Update services"),
            Scope("delete.services", "Delete services"),
        ),
    ),
    Domain(
        "Webhooks",
        (
            Scope("create.webhooks", "Create webhooks"),
            Scope("read.webhooks", "Read webhooks"),
            Scope("update.webhooks", "Update webhooks and manage webhook secrets"),
            Scope("delete.webhooks", "Delete webhooks"),
            Scope("read.webhook_event_categories", "Read webhook event categories"),
        ),
    ),
    Domain(
        "Developer",
        (
            Scope("read.tokens", "List and read personal access tokens (never their secrets)"),
            Scope("create.tokens", "Create personal access tokens"),
            Scope("update.tokens", "Rename and rotate personal access tokens"),
            Scope("delete.tokens", "Revoke personal access tokens"),
            Scope("read.api_keys", "List and read API keys (never their secrets)"),
            Scope("create.api_keys", "Create API keys"),
            Scope("update.api_keys", "Rename and rotate API keys"),
            Scope("delete.api_keys", "Delete API keys"),
            Scope("read.oauth_clients", "List and read OAuth clients (never their secrets)"),
            Scope("create.oauth_clients", "Register OAuth clients"),
            Scope("update.oauth_clients", "Edit OAuth clients and regenerate their secrets"),
            Scope("delete.oauth_clients", "Delete OAuth clients (revokes all their tokens)"),
            Scope("read.oauth_tokens", "List the OAuth tokens you granted to clients"),
            Scope("delete.oauth_tokens", "Revoke OAuth tokens you granted"),
        ),
    ),
)

SCOPES = {scope.name: scope for domain in DOMAINS for scope in domain.scopes}
DOMAIN_OF = {scope.name: domain.name for domain in DOMAINS for scope in domain.scopes}

# What developer access adds to a membership, whatever its role (Medchat's Developer role).
DEVELOPER_SCOPES = frozenset(
    {
        "read.tokens",
        "create.tokens",
        "update.tokens",
        "delete.tokens",
        "read.api_keys",
        "create.api_keys",
        "update.api_keys",
        "delete.api_keys",
        "read.oauth_clients",
        "create.oauth_clients",
        "update.oauth_clients",
        "delete.oauth_clients",
    }
)

# The bundles make web1on1's permission matrix hold exactly (tests/chats/test_permission_matrix.py).
# Every member sees and revokes the apps they authorized (the portal's Authorized apps page
# asks for no developer access), so the grant scopes sit in the lowest bundle.
_GUEST = frozenset(
    {
        "read.me",
        "update.me",
        "read.chat_details",
        "create.messages",
        "read.oauth_tokens",
        "delete.oauth_tokens",
    }
)
_AGENT = _GUEST | frozenset(
    {
        "read.chats",
        "create.chats",
        "create.chat_attributes",
        "update.chat_attributes",
        "read.contacts",
        "read.knowledge_items",
        "create.knowledge_items",
        "update.knowledge_items",
    }
)
_BOT = _AGENT | frozenset(
    {
        "read.organizations",
        "read.organization_groups",
        "read.users",
        "read.messages",
        "update.messages",
        "read.contact_details",
        "create.contacts",
        "update.contacts",
        "read.forms",
        "create.forms",
        "update.forms",
        "delete.knowledge_items",
        "impersonate.bot",
    }
)
_ADMIN = (
    _BOT
    | DEVELOPER_SCOPES
    | frozenset(
        {
            "create.organizations",
            "update.organizations",
            "delete.organizations",
            "create.organization_groups",
            "update.organization_groups",
            "delete.organization_groups",
            "read.my_orgs.users",
            "create.users",
            "update.users",
            "delete.users",
            "read.credential_reviews",
            "update.credential_reviews",
            "update.chats",
            "delete.chats",
            "delete.messages",
            "delete.contacts",
            "read.form_details",
            "delete.forms",
            "read.services",
            "create.services",
            "update.services",
            "delete.services",
            "create.webhooks",
            "read.webhooks",
            "update.webhooks",
            "delete.webhooks",
            "read.webhook_event_categories",
        }
    )
)

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
    """A credential's scopes intersected with what its owner's membership allows today.

    A role name kept as such in a credential's scope (a login token carries its member's
    role, web1on1) means what a member of that role may do, developer access included
    when the member has it: a person's login token manages what the person may manage
    in the portal. Issued credentials (personal tokens, keys, OAuth grants) store fine
    scopes, expanded at creation, so they never widen with this.
    """
    names = scope_string.split()
    granted = set(expand(scope_string))
    for name in names:
        if name in ROLE_BUNDLES:
            granted |= allowed_for(name, developer_access)
    return frozenset(granted) & allowed_for(role, developer_access)


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
