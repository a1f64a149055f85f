from django.urls import path

from agreements import dashboard_views, document_views, register_views, views

app_name = "agreements"

urlpatterns = [
    path("agreements/", views.agreement_list, name="list"),
    path("consortia/<int:consortium_pk>/agreements/new/", views.agreement_create, name="create"),
    path(
        "consortia/<int:consortium_pk>/agreements/by-status.csv",
        dashboard_views.by_status_csv,
        name="by-status-csv",
    ),
    path("agreements/<int:pk>/", views.agreement_detail, name="detail"),
    path("agreements/<int:pk>/parties/", views.party_add, name="party-add"),
    path("agreement-parties/<int:pk>/remove/", views.party_remove, name="party-remove"),
    path("agreements/<int:pk>/<slug:step>/", views.agreement_step, name="step"),
    path("agreement-versions/<int:pk>/", views.version_edit, name="version"),
    path("agreement-versions/<int:pk>/clauses/", views.clause_add, name="clause-add"),
    path("agreement-versions/<int:pk>/redline/", views.version_redline, name="redline"),
    path("agreement-versions/<int:pk>/sign/", document_views.version_sign, name="sign"),
    path("agreement-versions/<int:pk>/decline/", document_views.version_decline, name="decline"),
    path("agreement-versions/<int:pk>/pdf/", document_views.version_pdf, name="pdf"),
    path("agreements/verify/", document_views.verify_page, name="verify"),
    path(
        "consortia/<int:consortium_pk>/agreements/export/",
        document_views.export_create,
        name="export-create",
    ),
    path("agreement-exports/<int:pk>/", document_views.export_detail, name="export"),
    path(
        "agreement-exports/<int:pk>/download/",
        document_views.export_download,
        name="export-download",
    ),
    path("agreement-versions/<int:pk>/<slug:step>/", views.version_step, name="version-step"),
    path("clauses/<int:pk>/<slug:step>/", views.clause_change, name="clause"),
    path("odrl/profile.ttl", views.odrl_profile, name="odrl-profile"),
    path("datasets/", register_views.dataset_list, name="datasets"),
    path("datasets/new/", register_views.dataset_create, name="dataset-create"),
    path("datasets/<int:pk>/", register_views.dataset_detail, name="dataset"),
    path("ip-assets/", register_views.ip_asset_list, name="ip-assets"),
    path("ip-assets/<int:pk>/", register_views.ip_asset_detail, name="ip-asset"),
]
