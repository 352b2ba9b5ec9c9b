"""The password change form: Django's, with the choice to end every other session."""

from django import forms
from django.contrib.auth.forms import PasswordChangeForm


class PasswordChange(PasswordChangeForm):
    end_other_sessions = forms.BooleanField(
        required=False, initial=True, label="End every other session",
        help_text="Programs and apps logged in as you (login tokens) stop working and must log in again.",
    )
