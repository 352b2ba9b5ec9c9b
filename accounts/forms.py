"""Login forms: the portal's and the admin's, both stopped plainly by the throttle."""

from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError

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
