"""The login API: /api/v1/auth/… — log in, refresh, log out, revoke, revoke all, sessions.

Views are thin: they read the body, call the login services, and shape the answer.
Secrets arrive only in JSON bodies (never the URL) and leave only in the response
that issues them, with `Cache-Control: no-store` (RFC 6749 §5.1).
"""

from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.exceptions import NotFound, Throttled, ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from accounts.http import client_ip
from accounts.models import Membership
from accounts.throttle import Throttled as TooManyAttempts

from ..bearer.authentication import AccessTokenAuthentication
from ..bearer.principal import Principal
from ..models import CredentialKind, RefreshToken
from ..permissions import HasRequiredScopes
from . import services
from .sessions import describe, sessions_for_list

# Names a secret may go by; any of them in a query string is refused (RFC 6750 §2.3, RFC 9700 §4.3.2).
SECRET_PARAMETERS = frozenset(
    {"password", "refreshToken", "refresh_token", "token", "accessToken", "access_token"}
)
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def user_agent(request):
    return request.META.get("HTTP_USER_AGENT", "")[:255]


class LoginCredentialOnly(permissions.BasePermission):
    """Allows only the credential kinds the view names: sessions belong to the person, not to programs."""

    message = {
        "code": "login_token_required",
        "detail": "Only a login token (from POST /api/v1/auth/token) may do this.",
    }

    def has_permission(self, request, view):
        principal = request.auth
        return isinstance(principal, Principal) and principal.kind in view.credential_kinds


class AuthView(GenericAPIView):
    """Shared by the auth endpoints: no secret in the URL, ever."""

    def initial(self, request, *args, **kwargs):
        if SECRET_PARAMETERS.intersection(request.query_params):
            raise ValidationError(
                {
                    "code": "invalid_request",
                    "detail": "Tokens and passwords are never accepted in the URL; send them in the JSON body "
                    "(and access tokens in the Authorization header).",
                }
            )
        super().initial(request, *args, **kwargs)


class TokenRequestSerializer(serializers.Serializer):
    email = serializers.CharField(required=False, max_length=254)
    password = serializers.CharField(
        required=False, write_only=True, trim_whitespace=False, style={"input_type": "password"}
    )
    organization = serializers.CharField(
        required=False, max_length=32, help_text="Org ID to log in to, when you belong to several."
    )
    refresh_token = serializers.CharField(required=False, write_only=True)
    client_id = serializers.CharField(
        required=False,
        max_length=254,
        help_text="With refreshToken and no Authorization header: the email of the token's user.",
    )


class TokenResponseSerializer(serializers.Serializer):
    token_type = serializers.CharField(help_text="Always Bearer.")
    token = serializers.CharField(help_text="The access token (a JWT, 24 h). Shown once.")
    refresh_token = serializers.CharField(help_text="kw_rt_…: one use, 30 days. Shown once.")
    user = serializers.IntegerField(help_text="The user's id (the JWT's `sub`).")
    scope = serializers.CharField(help_text="The role bundle the token carries.")
    organization = serializers.CharField(help_text="Org ID the token acts in (the JWT's `org`).")
    expires_at = serializers.DateTimeField()
    refresh_token_expires_at = serializers.DateTimeField()


def pair_response(pair, status_code=status.HTTP_200_OK):
    body = {
        "token_type": "Bearer",
        "token": pair.token.reveal(),
        "refresh_token": pair.refresh_secret.reveal(),
        "user": pair.membership.user_id,
        "scope": pair.scope,
        "organization": pair.membership.organization.public_id,
        "expires_at": pair.expires_at,
        "refresh_token_expires_at": pair.refresh_expires_at,
    }
    return Response(body, status=status_code, headers=NO_STORE)


@method_decorator(
    sensitive_post_parameters("password", "refreshToken", "refresh_token", "token"), name="dispatch"
)
class TokenView(AuthView):
    """Log in with email and password, or refresh with a refresh token (web1on1).

    Refresh either with the current access token as Bearer (before it expires), or
    without Authorization and with `clientId`, the email of the token's user.
    """

    authentication_classes = [AccessTokenAuthentication]
    permission_classes = [permissions.AllowAny]
    required_scopes = []
    serializer_class = TokenRequestSerializer

    def perform_authentication(self, request):
        pass  # lazily: a login ignores any Authorization header, a Bearer refresh reads it

    @extend_schema(
        request=TokenRequestSerializer,
        responses={
            200: TokenResponseSerializer,
            400: OpenApiResponse(description="invalid_grant"),
            429: OpenApiResponse(description="Too many failed logins (Retry-After)"),
        },
        operation_id="auth_token",
    )
    def post(self, request):
        body = TokenRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        if not data.get("refresh_token") and not (data.get("email") and data.get("password")):
            raise ValidationError(
                {
                    "code": "invalid_request",
                    "detail": "Send email and password to log in, or refreshToken to refresh.",
                }
            )
        try:
            if data.get("refresh_token"):
                pair = self._refresh(request, data)
            else:
                pair = services.log_in(
                    email=data["email"],
                    password=data["password"],
                    organization_id=data.get("organization"),
                    ip=client_ip(request),
                    user_agent=user_agent(request),
                )
        except TooManyAttempts as exc:
            raise Throttled(
                wait=exc.retry_after,
                detail="Too many failed logins for this account or from this address.",
            ) from None
        return pair_response(pair)

    def _refresh(self, request, data):
        bearer = None
        if not data.get("client_id") and request.META.get("HTTP_AUTHORIZATION"):
            request.user  # noqa: B018 - authenticates now; a bad or expired token answers 401
            bearer = request.auth
        return services.refresh(
            raw=data["refresh_token"],
            client_id=data.get("client_id"),
            bearer=bearer,
            ip=client_ip(request),
            user_agent=user_agent(request),
        )


class LogoutView(AuthView):
    """End the session of the login token that makes the call (Qiscus)."""

    required_scopes = []
    permission_classes = [HasRequiredScopes, LoginCredentialOnly]
    credential_kinds = (CredentialKind.LOGIN,)

    @extend_schema(request=None, responses={204: None}, operation_id="auth_logout")
    def post(self, request):
        services.log_out(token_id=request.auth.token_id, by=request.user, ip=client_ip(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class RevokeSerializer(serializers.Serializer):
    token = serializers.CharField(
        write_only=True, help_text="One of your login tokens: an access token or a refresh token."
    )


@method_decorator(sensitive_post_parameters("token"), name="dispatch")
class RevokeView(AuthView):
    """End the session one of your login tokens (access or refresh) belongs to."""

    required_scopes = []
    permission_classes = [HasRequiredScopes, LoginCredentialOnly]
    credential_kinds = (CredentialKind.LOGIN, CredentialKind.SESSION)

    @extend_schema(
        request=RevokeSerializer,
        responses={204: None, 404: OpenApiResponse(description="not yours")},
        operation_id="auth_revoke",
    )
    def post(self, request):
        body = RevokeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        ended = services.revoke(
            user=request.user, raw=body.validated_data["token"], ip=client_ip(request)
        )
        if ended is None:
            raise NotFound(
                {"code": "not_found", "detail": "None of your login sessions has that token."}
            )
        return Response(status=status.HTTP_204_NO_CONTENT)


class RevokeAllView(AuthView):
    """End every session of yours, everywhere, and get a fresh pair for this caller (Qiscus)."""

    required_scopes = []
    permission_classes = [HasRequiredScopes, LoginCredentialOnly]
    credential_kinds = (CredentialKind.LOGIN,)

    @extend_schema(
        request=None, responses={200: TokenResponseSerializer}, operation_id="auth_revoke_all"
    )
    def post(self, request):
        membership = (
            Membership.objects.with_org().select_related("user").get(pk=request.auth.membership_id)
        )
        _ended, pair = services.revoke_all(
            user=membership.user,
            membership=membership,
            ip=client_ip(request),
            user_agent=user_agent(request),
        )
        return pair_response(pair)


class SessionSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="The session's id; it stays the same across refreshes.")
    created_at = serializers.DateTimeField(help_text="When the session started (the login).")
    last_used_at = serializers.DateTimeField()
    ip = serializers.IPAddressField(allow_null=True, help_text="Where it was last used from.")
    user_agent = serializers.CharField()
    expires_at = serializers.DateTimeField(help_text="When the session ends unless refreshed.")
    access_token_expires_at = serializers.DateTimeField()
    current = serializers.BooleanField(
        help_text="True for the session of the token making this call."
    )


class SessionListView(AuthView):
    """Your live login sessions in this organization, newest first."""

    required_scopes = []
    permission_classes = [HasRequiredScopes, LoginCredentialOnly]
    credential_kinds = (CredentialKind.LOGIN, CredentialKind.SESSION)
    serializer_class = SessionSerializer

    @extend_schema(responses=SessionSerializer(many=True), operation_id="auth_sessions_list")
    def get(self, request):
        principal = request.auth
        if principal.organization_id is None:
            sessions = RefreshToken.objects.none()
        else:
            sessions = sessions_for_list(user=request.user, organization=principal.organization_id)
        page = self.paginate_queryset(sessions)
        current = principal.token_id if principal.kind == CredentialKind.LOGIN else None
        rows = [describe(rt, current_token_id=current) for rt in page]
        return self.get_paginated_response(SessionSerializer(rows, many=True).data)


class SessionDetailView(AuthView):
    """End one of your sessions; its access token answers 401 at once."""

    required_scopes = []
    permission_classes = [HasRequiredScopes, LoginCredentialOnly]
    credential_kinds = (CredentialKind.LOGIN, CredentialKind.SESSION)

    @extend_schema(responses={204: None}, operation_id="auth_sessions_destroy")
    def delete(self, request, session_id):
        principal = request.auth
        ended = None
        if principal.organization_id is not None:
            ended = services.end_session(
                user=request.user,
                organization=principal.organization_id,
                session_id=session_id,
                ip=client_ip(request),
            )
        if ended is None:
            raise NotFound(
                {"code": "not_found", "detail": "You have no live session with that id here."}
            )
        return Response(status=status.HTTP_204_NO_CONTENT)
