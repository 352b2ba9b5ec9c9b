from django.urls import path

from . import views

urlpatterns = [
    path("orgs/<str:org_id>/developer/", views.developer_home, name="developer_home"),
]
