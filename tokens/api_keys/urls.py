from django.urls import path

from . import views

urlpatterns = [
    path("orgs/<str:org_id>/developer/api-keys/", views.api_keys_page, name="api_keys"),
    path("orgs/<str:org_id>/developer/api-keys/new", views.api_key_create, name="api_key_create"),
    path("orgs/<str:org_id>/developer/api-keys/<int:key_id>/rename", views.api_key_rename,
         name="api_key_rename"),
    path("orgs/<str:org_id>/developer/api-keys/<int:key_id>/rotate", views.api_key_rotate,
         name="api_key_rotate"),
    path("orgs/<str:org_id>/developer/api-keys/<int:key_id>/delete", views.api_key_delete,
         name="api_key_delete"),
]
