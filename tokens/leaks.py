"""Leaked-token reports from GitHub's secret scanning partner program.

GitHub POSTs a JSON array of `{token, type, url, source}` signed with ECDSA P-256 / SHA-256
over the raw body (`GITHUB-PUBLIC-KEY-IDENTIFIER`, `GITHUB-PUBLIC-KEY-SIGNATURE`, base64 DER).
The signature is the authentication: keys come from SECRET_SCANNING_PUBLIC_KEYS, never fetched.

Every live Keyward secret among the reported strings is revoked at once by its own kind: each
kind has a `leaks.revoke_leaked(raw)` (refusing garbage by prefix and checksum before any
query, and telling a live secret it revoked from a real one that was already dead), named in
its description (`Kind.revoke_leaked`, tokens.kinds), so this root module imports no kind.
Here a revocation is recorded (a `leaked` audit event saying where), the owner and admins are
emailed, and `credential.leaked` goes to the lifecycle emitters (webhooks).
"""

import base64
import binascii
import json
import logging
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import transaction
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, permissions, serializers
from rest_framework.authentication import BaseAuthentication
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from lib.tasks import enqueue_on_commit

from . import audit, kinds, lifecycle, notifications, secret_format
from .models import AuditEvent

log = logging.getLogger(__name__)

KEY_ID_HEADER = "GITHUB-PUBLIC-KEY-IDENTIFIER"
SIGNATURE_HEADER = "GITHUB-PUBLIC-KEY-SIGNATURE"
MAX_TOKENS_PER_REPORT = 1000
MAX_TOKEN_LENGTH = 4096


@dataclass(frozen=True)
class Leaked:
    """A real Keyward secret a kind's `revoke_leaked` found, and whether this report revoked it."""

    # The row (pk, organization, name, last4); None for a dead refresh token whose row no longer
    # names its access token (DOT unlinks them on revocation).
    credential: object
    kind: str  # CredentialKind value
    token_type: str  # the name GitHub knows the pattern by (the answer's `token_type`)
    # False: it no longer worked (revoked, expired, rotated out; by an earlier line or report),
    # so nothing changed.
    revoked: bool = True


REVOKED, ALREADY_INACTIVE, UNKNOWN = "revoked", "already_inactive", "unknown"


def verify_signature(body, key_id, signature):
    """True when `signature` (base64 DER) is the configured key's ECDSA P-256/SHA-256 signature of `body`."""
    pem = settings.SECRET_SCANNING_PUBLIC_KEYS.get(key_id)
    if not pem or not signature:
        return False
    try:
        public_key = serialization.load_pem_public_key(pem.encode("ascii"))
        der = base64.b64decode(signature, validate=True)
        if not isinstance(public_key, ec.EllipticCurvePublicKey):
            return False
        public_key.verify(der, body, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError, binascii.Error, TypeError):
        return False
    return True


@dataclass(frozen=True)
class SignedReport:
    """`request.auth` of a report whose signature verified: which of GitHub's keys signed it."""

    key_id: str


class GitHubSignatureAuthentication(BaseAuthentication):
    """Authenticates a report by GitHub's ECDSA signature over the raw body; anything else is 401."""

    def authenticate(self, request):
        key_id = request.headers.get(KEY_ID_HEADER, "")
        signature = request.headers.get(SIGNATURE_HEADER, "")
        if not key_id or not signature:
            raise exceptions.NotAuthenticated(
                f"Reports must be signed: send the {KEY_ID_HEADER} and {SIGNATURE_HEADER} headers."
            )
        try:
            body = request.body
        except RequestDataTooBig:
            raise exceptions.ParseError("The report is too large.") from None
        if not verify_signature(body, key_id, signature):
            raise exceptions.AuthenticationFailed(
                "The report's signature does not verify against any configured GitHub public key.",
                code="invalid_signature",
            )
        return (None, SignedReport(key_id))

    def authenticate_header(self, request):
        return f'ECDSA realm="secret-scanning", headers="{KEY_ID_HEADER} {SIGNATURE_HEADER}"'


class GitHubSignatureScheme(OpenApiAuthenticationExtension):
    target_class = "tokens.leaks.GitHubSignatureAuthentication"
    name = "githubSecretScanningSignature"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": SIGNATURE_HEADER,
            "description": f"GitHub's ECDSA P-256/SHA-256 signature (base64 DER) of the raw body, by the key "
            f"named in {KEY_ID_HEADER}; the keys are configured in SECRET_SCANNING_PUBLIC_KEYS. "
            "No Keyward credential.",
        }


class IsSignedReport(permissions.BasePermission):
    """Allows a request whose body a configured secret scanning key signed (and nothing else)."""

    def has_permission(self, request, view):
        return isinstance(request.auth, SignedReport)


class ReportItemSerializer(serializers.Serializer):
    """One string GitHub found (for the schema; the body is checked by `_items`)."""

    token = serializers.CharField(help_text="The string found.")
    type = serializers.CharField(
        help_text="The pattern GitHub matched (e.g. keyward_personal_access_token)."
    )
    url = serializers.CharField(help_text="Where it was found.")
    source = serializers.CharField(help_text="content, commit, pull_request, issue, gist, npm…")


class ReportAnswerSerializer(serializers.Serializer):
    token_hash = serializers.CharField(help_text="SHA-256 (hex) of the reported token.")
    token_type = serializers.CharField()
    label = serializers.ChoiceField(
        choices=["true_positive", "false_positive"],
        help_text="true_positive: a real Keyward secret, live or not; false_positive: none.",
    )
    outcome = serializers.ChoiceField(
        choices=[REVOKED, ALREADY_INACTIVE, UNKNOWN],
        help_text="revoked: live until this report revoked it; already_inactive: a real secret "
        "that no longer worked, so nothing changed (a replayed report); unknown: not a Keyward secret.",
    )


def _items(body):
    """The report as a list of `{token, type, url, source}` strings, or a 400."""
    try:
        report = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise exceptions.ParseError(
            "The report must be a JSON array of {token, type, url, source}."
        ) from None
    if not isinstance(report, list) or len(report) > MAX_TOKENS_PER_REPORT:
        raise exceptions.ValidationError(
            {
                "code": "invalid_report",
                "detail": f"The report must be a JSON array of at most {MAX_TOKENS_PER_REPORT} "
                "{token, type, url, source}.",
            }
        )
    items = []
    for item in report:
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("token"), str)
            or not all(isinstance(item.get(field, ""), str) for field in ("type", "url", "source"))
        ):
            raise exceptions.ValidationError(
                {
                    "code": "invalid_report",
                    "detail": "Each reported item must be an object with the strings token, type, url and source.",
                }
            )
        items.append({field: item.get(field, "") for field in ("token", "type", "url", "source")})
    return items


class ReportView(APIView):
    """Receive a GitHub secret scanning report; revoke every live Keyward secret in it at once.

    Answers each reported token with its `token_type` and `label` (`true_positive` when it is
    a real Keyward secret, live or already dead; `false_positive` otherwise), as the partner
    program expects, and an `outcome` saying whether this report revoked it: a replayed report
    changes nothing (no revocation, audit event, email or webhook) and answers `already_inactive`.
    No Keyward credential: GitHub's ECDSA signature over the body authenticates it.
    """

    authentication_classes = [GitHubSignatureAuthentication]
    permission_classes = [IsSignedReport]
    required_scopes = []  # not a credential's call: the signature is all it needs
    parser_classes = [JSONParser]  # for the schema; the body is read raw, as it was signed
    renderer_classes = [JSONRenderer]  # GitHub's snake_case, not the API's camelCase

    @extend_schema(
        operation_id="secret_scanning_report",
        request=ReportItemSerializer(many=True),
        responses={
            200: ReportAnswerSerializer(many=True),
            400: OpenApiResponse(description="Not a JSON array of {token, type, url, source}"),
            401: OpenApiResponse(description="Unsigned, or the signature does not verify"),
        },
        tags=["secret-scanning"],
    )
    def post(self, request):
        answers = []
        for item in _items(request.body):
            leaked = self.revoke(item["token"])
            if leaked is not None and leaked.revoked:
                self.record(leaked, url=item["url"], source=item["source"])
            outcome = UNKNOWN if leaked is None else REVOKED if leaked.revoked else ALREADY_INACTIVE
            answers.append(
                {
                    "token_hash": secret_format.digest(item["token"]),
                    "token_type": leaked.token_type if leaked else item["type"],
                    "label": "true_positive" if leaked else "false_positive",
                    "outcome": outcome,
                }
            )
        return Response(answers)

    def revoke(self, raw):
        if not raw or len(raw) > MAX_TOKEN_LENGTH:
            return None
        for kind in kinds.where("revoke_leaked"):
            leaked = kind.revoke_leaked(
                raw
            )  # each checks the shape first, then asks in a transaction
            if leaked is not None:
                return leaked
        return None

    def record(self, leaked, *, url, source):
        credential = leaked.credential
        where = f"{url} ({source})" if source else url
        with transaction.atomic():
            event = audit.record(
                action=AuditEvent.Action.LEAKED,
                credential=credential,
                kind=leaked.kind,
                detail=f"found at {where}"[:255],
            )
            enqueue_on_commit(notifications.send_leak_notice, event.pk)
            # webhook: credential.leaked, shaped like every credential event (chats.events);
            # no Keyward user acted: GitHub reported it.
            payload = lifecycle.credential_payload(
                credential,
                kind=leaked.kind,
                owner=notifications.owner_of(credential),
                actor=None,
                detail=event.detail,
                url=url,
                source=source,
            )
            payload["credential"]["scopes"] = notifications.scopes_of(credential)
            lifecycle.emit(credential.organization, "credential.leaked", payload)
        log.warning(
            "%s %s …%s reported leaked at %s and revoked",
            leaked.kind,
            credential.pk,
            credential.last4,
            url,
        )
