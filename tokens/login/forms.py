"""The password change form: Django's, with the choice to end every other session."""

from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth.forms import PasswordChangeForm

from accounts.throttle import Throttled


class PasswordChange(PasswordChangeForm):
    """The old password is checked through `authenticate()`, so the login throttle guards it too."""

    end_other_sessions = forms.BooleanField(
        required=False, initial=True, label="End every other session",
        help_text="Programs and apps logged in as you (login tokens) stop working and must log in again.",
    )

    def __init__(self, user, *args, request=None, **kwargs):
        super().__init__(user, *args, **kwargs)
        self.request = request

    def clean_old_password(self):
        old_password = self.cleaned_data["old_password"]
        try:
            checked = authenticate(self.request, username=self.user.email, password=old_password)
        except Throttled as exc:
            raise forms.ValidationError(exc.sentence, code="throttled") from None
        if checked is None or checked.pk != self.user.pk:
            raise forms.ValidationError(self.error_messages["password_incorrect"], code="password_incorrect")
        return old_password
