from rest_framework.routers import SimpleRouter

from compute.api import compliance_views, finding_views, placement_views, views

router = SimpleRouter(use_regex_path=False)
router.register("providers", views.ProviderViewSet, basename="compute-provider")
router.register("sites", views.SiteViewSet, basename="compute-site")
router.register("compute-approvals", views.ApprovalViewSet, basename="compute-approval")
router.register("pools", views.PoolViewSet, basename="pool")
router.register(
    "allocation-requests", views.AllocationRequestViewSet, basename="allocation-request"
)
router.register("reservations", views.ReservationViewSet, basename="reservation")
router.register("loans", views.LoanViewSet, basename="loan")
router.register("compliance/jobs", compliance_views.ComplianceJobViewSet, basename="compliance-job")
router.register(
    "compliance/placements",
    placement_views.CompliancePlacementViewSet,
    basename="compliance-placement",
)

router.register(
    "compliance/findings", finding_views.ComplianceFindingViewSet, basename="compliance-finding"
)

urlpatterns = [*router.urls]

# The compliance gate, which pipelines call on every run: the API lists it first.
gate = SimpleRouter(use_regex_path=False)
gate.register(
    "compliance/decisions",
    compliance_views.ComplianceDecisionViewSet,
    basename="compliance-decision",
)
gate_urlpatterns = [*gate.urls]
