from django.urls import path
from rest_framework.routers import SimpleRouter

from audit.api import views

router = SimpleRouter()
router.register("audit/events", views.AuditEventViewSet, basename="audit-event")
router.register("audit/checkpoints", views.AuditCheckpointViewSet, basename="audit-checkpoint")
router.register("audit/exports", views.AuditExportViewSet, basename="audit-export")

urlpatterns = [
    path("audit/public-key/", views.AuditPublicKeyView.as_view(), name="audit-public-key"),
    *router.urls,
]
