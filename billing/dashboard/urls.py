from django.urls import path

from billing.dashboard import security, users, views

app_name = "billing"
urlpatterns = [
    path("api-keys/", views.api_key_list, name="api_key_list"),
    path("api-keys/<uuid:api_key_id>/revoke/", views.api_key_revoke_view, name="api_key_revoke"),
    path("billing/", views.billing_overview, name="billing"),
    path("billing/prices/", views.price_list, name="price_list"),
    path("billing/top-up-request/", views.top_up_request_view, name="billing_top_up_request"),
    path("billing/quiet-hours/", views.quiet_hours_view, name="quiet_hours"),
    path("users/", users.user_list, name="user_list"),
    path("users/<uuid:user_id>/role/", users.user_role, name="user_role"),
    path("users/<uuid:user_id>/status/", users.user_status_view, name="user_status"),
    path("users/<uuid:user_id>/remove/", users.user_remove_view, name="user_remove"),
    path("users/<uuid:user_id>/reinvite/", users.user_reinvite_view, name="user_reinvite"),
    path("users/<uuid:user_id>/revoke/", users.user_revoke_view, name="user_revoke"),
    path("account/security/", security.security, name="security"),
    path("audit-log/", users.audit_log, name="audit_log"),
    path("audit-log.csv", users.audit_log_csv, name="audit_log_csv"),
    path("invitations/<str:token>/", users.invitation, name="invitation"),
]
