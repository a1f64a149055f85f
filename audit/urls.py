from django.urls import path

from audit import views

app_name = "audit"

urlpatterns = [
    path("consortia/<int:pk>/activity/", views.activity, name="activity"),
    path("consortia/<int:pk>/activity/exports/", views.export_create, name="export-create"),
    path("audit/exports/<int:pk>/", views.export_detail, name="export"),
    path("audit/exports/<int:pk>/download/", views.export_download, name="export-download"),
]
