from django.urls import path
from rest_framework.routers import SimpleRouter

from agreements.api import document_views, views

router = SimpleRouter(use_regex_path=False)
router.register("agreements", views.AgreementViewSet, basename="agreement")
router.register("agreement-parties", views.PartyViewSet, basename="agreement-party")
router.register("agreement-versions", views.VersionViewSet, basename="agreement-version")
router.register("clauses", views.ClauseViewSet, basename="clause")
router.register("clause-library", views.ClauseTemplateViewSet, basename="clause-template")
router.register("datasets", views.DatasetViewSet, basename="dataset")
router.register("ip-assets", views.IPAssetViewSet, basename="ip-asset")
router.register("agreement-exports", document_views.ExportViewSet, basename="agreement-export")

urlpatterns = [
    path("signed-documents/verify/", document_views.VerifyView.as_view(), name="verify"),
    *router.urls,
]
