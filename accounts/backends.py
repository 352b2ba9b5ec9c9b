from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from . import throttle
from .http import client_ip


class EmailBackend(ModelBackend):
    """Email + password for people; service accounts never log in with a password.

    Throttled: every `authenticate()` with a password passes here (it is the only backend;
    tests/accounts/test_throttled_doors.py holds that), so API login, portal login, admin
    login and password change share one throttle. The attempt is counted before the
    password is checked and raises throttle.Throttled instead of checking it.
    """

    def authenticate(self, request, username=None, password=None, ip=None, **kwargs):
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if username is None or password is None:
            return None  # not a password attempt: nothing to count
        attempt = throttle.reserve(
            account=username, ip=ip or (client_ip(request) if request else None)
        )
        user = super().authenticate(request, username=username.strip(), password=password, **kwargs)
        if user is not None:
            attempt.succeeded()
        return user

    def user_can_authenticate(self, user):
        return super().user_can_authenticate(user) and not user.is_service_account
