"""Every model of `tokens`, one module per subject; migrations know them by label and name only."""

from .api_key import ApiKey
from .audit import AuditEvent
from .bearer import AccessToken, Application, Kind, RefreshToken
from .kinds import REACH_RANK, CredentialKind, Reach
from .limits import AllowlistReport, CreditBalance, LimitNotice, Limits, RateLimitCell
from .policy import TokenPolicy
from .reminder import ExpiryReminder
from .review import ReviewItem
from .signing_key import SigningKey
from .usage import RotationNotice, UsageDay, UsageHour, UsageMinute, UsageRollup

__all__ = [
    "REACH_RANK",
    "AccessToken",
    "AllowlistReport",
    "ApiKey",
    "Application",
    "AuditEvent",
    "CredentialKind",
    "CreditBalance",
    "ExpiryReminder",
    "Kind",
    "LimitNotice",
    "Limits",
    "RateLimitCell",
    "Reach",
    "RefreshToken",
    "ReviewItem",
    "RotationNotice",
    "SigningKey",
    "TokenPolicy",
    "UsageDay",
    "UsageHour",
    "UsageMinute",
    "UsageRollup",
]
