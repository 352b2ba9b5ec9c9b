from .views import api_key_pages

urlpatterns = api_key_pages.urls("orgs/<str:org_id>/developer/api-keys/")
