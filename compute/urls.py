"""Browser pages of shared compute (the API's routes are in ``compute.api.urls``)."""

from django.urls import path

from compute import (
    compliance_views,
    dashboard_views,
    directory_views,
    pool_views,
    request_views,
    statement_views,
)

app_name = "compute"

urlpatterns = [
    # Pools
    path(
        "compute/consortia/<int:consortium_pk>/pools/new/",
        pool_views.pool_create,
        name="pool-create",
    ),
    path("compute/pools/", pool_views.pool_index, name="pools"),
    path("compute/pools/<int:pk>/", pool_views.pool_detail, name="pool"),
    path("compute/pools/<int:pk>/settings/", pool_views.pool_settings, name="pool-settings"),
    path("compute/pools/<int:pk>/capacity/", pool_views.capacity_change, name="capacity-change"),
    path(
        "compute/pools/<int:pk>/contributions/",
        pool_views.contribution_create,
        name="contribution-create",
    ),
    path("compute/pools/<int:pk>/loans/", pool_views.loan_create, name="loan-create"),
    path("compute/loans/<int:pk>/cancel/", pool_views.loan_cancel, name="loan-cancel"),
    path("compute/pools/<int:pk>/capacity.csv", pool_views.capacity_csv, name="capacity-csv"),
    path(
        "compute/pools/<int:pk>/reservations.csv",
        pool_views.reservations_csv,
        name="reservations-csv",
    ),
    path("compute/pools/<int:pk>/usage/", pool_views.usage_upload, name="usage-upload"),
    path("compute/pools/<int:pk>/fair-share/", pool_views.fair_share, name="fair-share"),
    path("compute/pools/<int:pk>/fair-share.csv", pool_views.fair_share_csv, name="fair-share-csv"),
    path(
        "compute/consortia/<int:consortium_pk>/fair-share/",
        pool_views.consortium_fair_share,
        name="consortium-fair-share",
    ),
    path(
        "compute/consortia/<int:consortium_pk>/capacity.csv",
        dashboard_views.consortium_capacity_csv,
        name="consortium-capacity-csv",
    ),
    path(
        "compute/consortia/<int:consortium_pk>/findings-by-severity.csv",
        dashboard_views.findings_csv,
        name="findings-csv",
    ),
    # Requests
    path(
        "compute/consortia/<int:consortium_pk>/requests/",
        request_views.consortium_queue,
        name="queue",
    ),
    path("compute/pools/<int:pk>/requests/", request_views.pool_queue, name="pool-queue"),
    path(
        "compute/pools/<int:pk>/requests/new/", request_views.request_create, name="request-create"
    ),
    path("compute/requests/<int:pk>/", request_views.request_detail, name="request"),
    path("compute/requests/<int:pk>/decide/", request_views.request_decide, name="request-decide"),
    path("compute/requests/<int:pk>/revise/", request_views.request_revise, name="request-revise"),
    path(
        "compute/requests/<int:pk>/withdraw/",
        request_views.request_withdraw,
        name="request-withdraw",
    ),
    path(
        "compute/reservations/<int:pk>/release/",
        request_views.reservation_release,
        name="reservation-release",
    ),
    # Statements
    path(
        "compute/consortia/<int:consortium_pk>/statements/",
        statement_views.statement_page,
        name="statement",
    ),
    path(
        "compute/consortia/<int:consortium_pk>/statements.csv",
        statement_views.statement_csv,
        name="statement-csv",
    ),
    path(
        "compute/consortia/<int:consortium_pk>/statements.pdf",
        statement_views.statement_pdf,
        name="statement-pdf",
    ),
    # The directory and approvals
    path("compute/providers/", directory_views.provider_list, name="providers"),
    path("compute/providers/new/", directory_views.provider_create, name="provider-create"),
    path("compute/providers/<int:pk>/", directory_views.provider_detail, name="provider"),
    path("compute/providers/<int:pk>/sites/", directory_views.site_create, name="site-create"),
    path(
        "compute/providers/<int:pk>/certifications/",
        directory_views.certification_create,
        name="certification-create",
    ),
    path(
        "compute/providers/<int:pk>/exposures/",
        directory_views.exposure_create,
        name="exposure-create",
    ),
    path(
        "compute/consortia/<int:consortium_pk>/approvals/",
        directory_views.approval_list,
        name="approvals",
    ),
    path(
        "compute/approvals/<int:pk>/revoke/",
        directory_views.approval_revoke,
        name="approval-revoke",
    ),
    # Compliance
    path(
        "compute/consortia/<int:consortium_pk>/compliance/",
        compliance_views.compliance_page,
        name="compliance",
    ),
    path(
        "compute/consortia/<int:consortium_pk>/compliance/decisions/",
        compliance_views.decision_log,
        name="compliance-decisions",
    ),
    path(
        "compute/consortia/<int:consortium_pk>/compliance/findings/",
        compliance_views.finding_list,
        name="compliance-findings",
    ),
    path(
        "compute/compliance/findings/<int:pk>/<str:step>/",
        compliance_views.finding_handle,
        name="compliance-finding",
    ),
    path(
        "compute/compliance/decisions/<int:pk>/",
        compliance_views.decision_detail,
        name="compliance-decision",
    ),
]
