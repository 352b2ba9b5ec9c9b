from django.contrib.auth.backends import ModelBackend


class EmailBackend(ModelBackend):
    """Email + password for people; service accounts never log in with a password."""

    def user_can_authenticate(self, user):
        return super().user_can_authenticate(user) and not user.is_service_account
