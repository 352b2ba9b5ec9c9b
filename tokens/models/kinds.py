from django.db import models


class CredentialKind(models.TextChoices):
    """What a credential (or an audit event's subject) is: one name used by the audit log,
    `Principal.kind` and the API alike."""

    PERSONAL = "personal", "Personal access token"
    LOGIN = "login", "Login token"
    OAUTH = "oauth", "OAuth access token"
    OAUTH_CLIENT = "oauth_client", "OAuth client"
    API_KEY = "api_key", "API key"
    WEBHOOK = "webhook", "Webhook signing secret"
    SESSION = "session", "Portal session"
    POLICY = "policy", "Token policy"
    MEMBER = "member", "Member"
    ORGANIZATION = "organization", "Organization"
    GROUP = "group", "Organization group"


class Reach(models.TextChoices):
    """How far a credential reaches (Smooch's scope of access): appUser < app < account."""

    APP_USER = "appUser", "One end user's own conversations"
    APP = "app", "This organization"
    ACCOUNT = "account", "Every organization of the organization group"


# A credential never mints or claims a wider reach than its own.
REACH_RANK = {Reach.APP_USER: 0, Reach.APP: 1, Reach.ACCOUNT: 2}
