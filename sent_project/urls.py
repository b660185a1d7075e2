from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularJSONAPIView

from sent_project import home, views
from sent_project.metrics import metrics_view
from sent_project.signin import SignInView, sign_in_verify

v3_patterns = [
    path("", include("billing.api.urls")),
    path("", include("contacts.api.urls")),
    path("", include("templates_app.api.urls")),
    path("", include("messaging.api.urls")),
    path(
        "openapi.json",
        SpectacularJSONAPIView.as_view(
            authentication_classes=[], permission_classes=[], throttle_classes=[]
        ),
        name="openapi-schema",
    ),
    # Anything else under /v3 is an unknown endpoint: 404 in the envelope, whatever DEBUG says.
    re_path(r"^[\s\S]*$", views.api_not_found),
]

urlpatterns = [
    path("v3/", include(v3_patterns)),
    path("docs/", views.ApiDocsView.as_view(url_name="openapi-schema"), name="api-docs"),
    path("docs/errors/", views.error_reference, name="error-reference"),
    path("admin/", admin.site.urls),
    path("login/", SignInView.as_view(), name="login"),
    path("login/code/", sign_in_verify, name="login_verify"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Password reset by email: Django's own views (docs/dashboard.md#passwords).
    path(
        "password-reset/",
        views.PasswordResetView.as_view(),
        name="password_reset",
    ),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="auth/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="auth/password_reset_confirm.html"
        ),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="auth/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
    path("favicon.ico", views.favicon, name="favicon"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
    path("providers/", include("messaging.callbacks.urls")),
    path("", home.home, name="home"),
    path("", include("billing.dashboard.urls")),
    path("", include("contacts.dashboard.urls")),
    path("", include("templates_app.dashboard.urls")),
    path("", include("messaging.dashboard.urls")),
]

handler400 = "sent_project.api.exception_handler.handler400"
handler403 = "sent_project.api.exception_handler.handler403"
handler404 = "sent_project.api.exception_handler.handler404"
handler500 = "sent_project.api.exception_handler.handler500"
