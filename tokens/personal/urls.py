from django.urls import path

from . import views

TOKENS = "orgs/<str:org_id>/developer/tokens/"

urlpatterns = [
    *views.token_pages.urls(TOKENS),
    path(TOKENS + "<int:token_id>/narrow", views.token_narrow, name="token_narrow"),
    path("orgs/<str:org_id>/admin/token-policy/", views.token_policy, name="token_policy"),
]
