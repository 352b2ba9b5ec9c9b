from django.urls import path

from . import views

TOKENS = "orgs/<str:org_id>/developer/tokens/"

urlpatterns = [
    path(TOKENS, views.token_list, name="tokens"),
    path(TOKENS + "new", views.token_create, name="token_create"),
    path(TOKENS + "<int:token_id>/", views.token_detail, name="token_detail"),
    path(TOKENS + "<int:token_id>/rename", views.token_rename, name="token_rename"),
    path(TOKENS + "<int:token_id>/secret", views.token_secret, name="token_secret"),
    path(
        TOKENS + "<int:token_id>/rotate/confirm",
        views.token_rotate_confirm,
        name="token_rotate_confirm",
    ),
    path(TOKENS + "<int:token_id>/rotate", views.token_rotate, name="token_rotate"),
    path(TOKENS + "<int:token_id>/delete", views.token_delete, name="token_delete"),
    path(TOKENS + "<int:token_id>/narrow", views.token_narrow, name="token_narrow"),
    path(TOKENS + "<int:token_id>/end-overlap", views.token_end_overlap, name="token_end_overlap"),
    path("orgs/<str:org_id>/admin/token-policy/", views.token_policy, name="token_policy"),
]
