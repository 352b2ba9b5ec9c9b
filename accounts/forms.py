"""The ground floor's forms: the ones that take a password (logins and password changes, all
through the throttled backend), and inviting or changing a member."""

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm, AdminPasswordChangeForm
from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError

from .models import Role
from .throttle import Throttled


class ThrottledFormMixin:
    """A login form that says plainly when the throttle stopped it (the password was not checked)."""

    throttled = None

    def clean(self):
        try:
            return super().clean()
        except Throttled as exc:
            self.throttled = exc
            raise ValidationError(exc.sentence, code="throttled") from None


class AdminLoginForm(ThrottledFormMixin, AdminAuthenticationForm):
    """The admin's login form; its `authenticate()` is throttled by the backend like every other door."""


class OldPasswordThroughBackendMixin:
    """A password change whose old password is checked by `authenticate()`, hence throttled.

    Django's PasswordChangeForm calls `user.check_password()` directly, which no throttle sees.
    """

    def __init__(self, user, *args, request=None, **kwargs):
        super().__init__(user, *args, **kwargs)
        self.request = request

    def clean_old_password(self):
        old_password = self.cleaned_data["old_password"]
        try:
            checked = authenticate(
                self.request, username=self.user.get_username(), password=old_password
            )
        except Throttled as exc:
            raise ValidationError(exc.sentence, code="throttled") from None
        if checked is None or checked.pk != self.user.pk:
            raise ValidationError(
                self.error_messages["password_incorrect"], code="password_incorrect"
            )
        return old_password


class AdminOwnPasswordChangeForm(OldPasswordThroughBackendMixin, AdminPasswordChangeForm):
    """The admin's "change my password" form."""


def roles_up_to(role):
    """The roles someone of `role` may give: their own and the ones below."""
    return [(value, label) for value, label in Role.choices if Role.rank(value) <= Role.rank(role)]


class InviteForm(forms.Form):
    email = forms.EmailField(max_length=254)
    name = forms.CharField(max_length=150, required=False, help_text="Used only for a new account.")
    role = forms.ChoiceField(choices=Role.choices, initial=Role.AGENT)
    developer_access = forms.BooleanField(required=False, label="Developer access")

    def __init__(self, *args, by_role, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = roles_up_to(by_role)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)

    def __init__(self, *args, by_role, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = roles_up_to(by_role)


class DeveloperAccessForm(forms.Form):
    developer_access = forms.BooleanField(required=False)
