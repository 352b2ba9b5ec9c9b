from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("orgs/switch/", views.switch_org, name="switch_org"),
    path("orgs/<str:org_id>/", views.org_home, name="org_home"),
    path("orgs/<str:org_id>/admin/members/", views.members, name="admin_members"),
]
