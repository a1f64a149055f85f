from rest_framework.routers import SimpleRouter

from agreements.api import views

router = SimpleRouter(use_regex_path=False)
router.register("agreements", views.AgreementViewSet, basename="agreement")
router.register("agreement-parties", views.PartyViewSet, basename="agreement-party")
router.register("agreement-versions", views.VersionViewSet, basename="agreement-version")
router.register("clauses", views.ClauseViewSet, basename="clause")
router.register("clause-library", views.ClauseTemplateViewSet, basename="clause-template")
router.register("datasets", views.DatasetViewSet, basename="dataset")
router.register("ip-assets", views.IPAssetViewSet, basename="ip-asset")

urlpatterns = router.urls
