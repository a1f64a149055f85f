from rest_framework.routers import SimpleRouter

from consortia.api import views

router = SimpleRouter()
router.register("jurisdictions", views.JurisdictionViewSet, basename="jurisdiction")
router.register("organisations", views.OrganisationViewSet, basename="organisation")
router.register("consortia", views.ConsortiumViewSet, basename="consortium")
router.register("memberships", views.MembershipViewSet, basename="membership")
router.register("role-assignments", views.RoleAssignmentViewSet, basename="role-assignment")

urlpatterns = router.urls
