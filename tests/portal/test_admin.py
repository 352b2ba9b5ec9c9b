"""The Django admin covers every model (read-only for credentials)."""


def test_every_model_has_an_admin_screen():
    from django.apps import apps
    from django.contrib import admin

    missing = [
        m._meta.label
        for m in apps.get_models()
        if m._meta.app_label in {"accounts", "tokens", "chats"}
        and m not in admin.site._registry
        # Django's admin refuses composite primary keys (the usage counts: Admin › Usage shows them).
        and not m._meta.is_composite_pk
    ]
    assert missing == []
