"""Filled in by the login-token work (issue 5)."""

urlpatterns = []
