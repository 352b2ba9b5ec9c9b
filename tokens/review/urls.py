from django.urls import path

from . import views

urlpatterns = [
    path("orgs/<str:org_id>/admin/review/", views.review_page, name="credential_review"),
    path(
        "orgs/<str:org_id>/admin/review/<int:item_id>/revoke/",
        views.review_revoke,
        name="credential_review_revoke",
    ),
    path(
        "orgs/<str:org_id>/admin/review/<int:item_id>/keep/",
        views.review_keep,
        name="credential_review_keep",
    ),
    path(
        "orgs/<str:org_id>/admin/review/<int:item_id>/reissue/",
        views.review_reissue,
        name="credential_review_reissue",
    ),
]
