"""The Django admin covers every model (read-only for credentials)."""


def test_every_model_has_an_admin_screen():
    from django.apps import apps
    from django.contrib import admin

    missing = [
        m._meta.label
        for m in apps.get_models()
        if m._meta.app_label in {"accounts", "tokens", "chats"} and m not in admin.site._registry
    ]
    assert missing == []
