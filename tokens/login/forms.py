"""The password change form: Django's, with the choice to end every other session."""

from django import forms
from django.contrib.auth.forms import PasswordChangeForm

from accounts.forms import OldPasswordThroughBackendMixin


class PasswordChange(OldPasswordThroughBackendMixin, PasswordChangeForm):
    """The old password is checked through `authenticate()`, so the login throttle guards it too."""

    end_other_sessions = forms.BooleanField(
        required=False,
        initial=True,
        label="End every other session",
        help_text="Programs and apps logged in as you (login tokens) stop working and must log in again.",
    )
