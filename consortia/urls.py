from django.urls import path

from consortia import (
    account_views,
    health_views,
    inbox_views,
    meeting_views,
    planning_views,
    views,
)
from consortia.governance import views as governance_views

app_name = "consortia"

urlpatterns = [
    path("consortia/", views.consortium_list, name="list"),
    path("consortia/new/", views.consortium_create, name="create"),
    path("consortia/<int:pk>/", views.consortium_detail, name="detail"),
    path("consortia/<int:pk>/edit/", views.consortium_edit, name="edit"),
    path("consortia/<int:pk>/status/", views.consortium_transition, name="transition"),
    path("consortia/<int:pk>/members/invite/", views.membership_invite, name="invite"),
    path(
        "consortia/<int:pk>/members/candidates/",
        views.organisation_options,
        name="invite-candidates",
    ),
    path("consortia/<int:pk>/roles/assign/", views.role_assign, name="role-assign"),
    path("consortia/<int:pk>/roles/chair/", views.chair_hand_over, name="chair-hand-over"),
    path("memberships/<int:pk>/<slug:action>/", views.membership_action, name="membership-action"),
    path("role-assignments/<int:pk>/revoke/", views.role_revoke, name="role-revoke"),
    path("consortia/<int:pk>/health/", health_views.health_check, name="health"),
    path("consortia/<int:pk>/health/record/", health_views.health_record, name="health-record"),
    path("consortia/<int:pk>/meetings/", meeting_views.meeting_list, name="meetings"),
    path("meetings/<int:pk>/", meeting_views.meeting_detail, name="meeting"),
    path("meetings/<int:pk>/minutes/", meeting_views.meeting_minutes, name="meeting-minutes"),
    path("meetings/<int:pk>/propose/", meeting_views.meeting_propose, name="meeting-propose"),
    path("meetings/<int:pk>/pdf/", meeting_views.meeting_pdf, name="meeting-pdf"),
    path("consortia/<int:pk>/motions/", governance_views.motion_list, name="motions"),
    path("consortia/<int:pk>/proxies/", governance_views.proxy_give, name="proxy-give"),
    path("proxies/<int:pk>/revoke/", governance_views.proxy_revoke, name="proxy-revoke"),
    path("motions/<int:pk>/", governance_views.motion_detail, name="motion"),
    path("motions/<int:pk>/vote/", governance_views.motion_vote, name="motion-vote"),
    path("motions/<int:pk>/recuse/", governance_views.motion_recuse, name="motion-recuse"),
    path("motions/<int:pk>/settings/", governance_views.motion_settings, name="motion-settings"),
    path("organisations/", views.organisation_list, name="organisation-list"),
    path("organisations/new/", views.organisation_create, name="organisation-create"),
    path("organisations/<int:pk>/", views.organisation_detail, name="organisation-detail"),
    path("organisations/<int:pk>/edit/", views.organisation_edit, name="organisation-edit"),
    path("inbox/", inbox_views.inbox_list, name="inbox"),
    path("inbox/read-all/", inbox_views.inbox_read_all, name="inbox-read-all"),
    path("inbox/<int:pk>/read/", inbox_views.inbox_read, name="inbox-read"),
    path("inbox/<int:pk>/open/", inbox_views.inbox_open, name="inbox-open"),
    path("account/tokens/", account_views.token_list, name="tokens"),
    path("account/tokens/<str:token_key>/revoke/", account_views.token_revoke, name="token-revoke"),
    path("consortia/<int:pk>/risks/", planning_views.risk_list, name="risks"),
    path("risks/<int:pk>/edit/", planning_views.risk_edit, name="risk-edit"),
    path("consortia/<int:pk>/plan/", planning_views.plan, name="plan"),
    path(
        "milestones/<int:pk>/complete/",
        planning_views.milestone_complete,
        name="milestone-complete",
    ),
    path("milestones/<int:pk>/reopen/", planning_views.milestone_reopen, name="milestone-reopen"),
]
