from django.urls import path

from alliance.webhooks import views

app_name = "webhooks"

urlpatterns = [
    path("webhooks/", views.endpoint_list, name="endpoints"),
    path("webhooks/new/", views.endpoint_create, name="endpoint-create"),
    path("webhooks/<int:pk>/", views.endpoint_detail, name="endpoint"),
    path("webhooks/<int:pk>/edit/", views.endpoint_edit, name="endpoint-edit"),
    path("webhooks/<int:pk>/rotate/", views.endpoint_rotate, name="endpoint-rotate"),
    path("webhooks/<int:pk>/disable/", views.endpoint_disable, name="endpoint-disable"),
    path("webhooks/<int:pk>/enable/", views.endpoint_enable, name="endpoint-enable"),
    path("webhooks/<int:pk>/delete/", views.endpoint_delete, name="endpoint-delete"),
    path("webhooks/messages/<int:pk>/", views.message_detail, name="message"),
    path("webhooks/messages/<int:pk>/replay/", views.message_replay, name="message-replay"),
    path(
        "consortia/<int:pk>/webhook-destinations/",
        views.destination_list,
        name="destinations",
    ),
    path(
        "webhook-destinations/<int:pk>/remove/",
        views.destination_remove,
        name="destination-remove",
    ),
]
