from django.urls import path

from . import views

KEYS = "orgs/<str:org_id>/developer/api-keys/"

urlpatterns = [
    path(KEYS, views.api_keys_page, name="api_keys"),
    path(KEYS + "new", views.api_key_create, name="api_key_create"),
    path(KEYS + "<int:key_id>/", views.api_key_detail, name="api_key_detail"),
    path(KEYS + "<int:key_id>/secret", views.api_key_secret, name="api_key_secret"),
    path(KEYS + "<int:key_id>/rename", views.api_key_rename, name="api_key_rename"),
    path(
        KEYS + "<int:key_id>/rotate/confirm",
        views.api_key_rotate_confirm,
        name="api_key_rotate_confirm",
    ),
    path(KEYS + "<int:key_id>/rotate", views.api_key_rotate, name="api_key_rotate"),
    path(KEYS + "<int:key_id>/delete", views.api_key_delete, name="api_key_delete"),
    path(KEYS + "<int:key_id>/end-overlap", views.api_key_end_overlap, name="api_key_end_overlap"),
]
