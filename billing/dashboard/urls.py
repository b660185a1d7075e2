from django.urls import path

from billing.dashboard import views

app_name = "billing"
urlpatterns = [
    path("api-keys/", views.api_key_list, name="api_key_list"),
    path("api-keys/<uuid:api_key_id>/revoke/", views.api_key_revoke_view, name="api_key_revoke"),
    path("billing/", views.billing_overview, name="billing"),
    path("billing/quiet-hours/", views.quiet_hours_view, name="quiet_hours"),
]
