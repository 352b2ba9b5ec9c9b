from django.urls import path

from . import views

REVIEW = "orgs/<str:org_id>/admin/review/"
ITEM = REVIEW + "<int:item_id>/"

urlpatterns = [
    path(REVIEW, views.review_page, name="credential_review"),
    path(ITEM + "revoke/", views.review_revoke, name="credential_review_revoke"),
    path(ITEM + "keep/", views.review_keep, name="credential_review_keep"),
    path(ITEM + "reissue/", views.review_reissue, name="credential_review_reissue"),
]
