from rest_framework.routers import SimpleRouter

from consortia import inbox_api, meeting_api, planning_api
from consortia.api import views
from consortia.governance.api import views as governance_views

router = SimpleRouter()
router.register("jurisdictions", views.JurisdictionViewSet, basename="jurisdiction")
router.register("organisations", views.OrganisationViewSet, basename="organisation")
router.register("consortia", views.ConsortiumViewSet, basename="consortium")
router.register("memberships", views.MembershipViewSet, basename="membership")
router.register("role-assignments", views.RoleAssignmentViewSet, basename="role-assignment")
router.register("motions", governance_views.MotionViewSet, basename="motion")
router.register("proxies", governance_views.ProxyViewSet, basename="proxy")
router.register("risks", planning_api.RiskViewSet, basename="risk")
router.register("milestones", planning_api.MilestoneViewSet, basename="milestone")
router.register("meetings", meeting_api.MeetingViewSet, basename="meeting")
router.register("notifications", inbox_api.NotificationViewSet, basename="notification")

urlpatterns = router.urls
