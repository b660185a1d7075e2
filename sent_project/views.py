"""The plumbing's own pages: the API's 404, the API docs, the error reference, the favicon and
the health checks."""

from csp.decorators import csp_update

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils.cache import patch_cache_control
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularRedocView

from sent_project.api.envelope import error_response
from sent_project.errors import CATALOGUE, NoSuchEndpoint
from sent_project.health import readiness_report


@csrf_exempt
def api_not_found(request: HttpRequest) -> HttpResponse:
    return error_response(NoSuchEndpoint(f"No endpoint {request.method} {request.path}"))


def favicon(request: HttpRequest) -> HttpResponse:
    """/favicon.ico, which browsers ask for on their own (the admin's pages, a JSON answer):
    the dashboard's SVG icon. A temporary redirect, kept a day: the icon's static name
    carries its hash when DEBUG is off."""
    response = redirect(static("favicon.svg"))
    patch_cache_control(response, max_age=24 * 3600)
    return response


def error_reference(request: HttpRequest) -> HttpResponse:
    codes = sorted(CATALOGUE.values(), key=lambda e: e.code)
    return render(request, "docs/errors.html", {"codes": codes})


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. Touches nothing else (a load balancer restarting web
    processes because the database is slow would make things worse); readiness is /readyz."""
    return JsonResponse({"status": "ok"})


def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness (docs/operations.md#health): every check's state; 503 naming the failing ones."""
    ready, report = readiness_report()
    return JsonResponse(report, status=200 if ready else 503)


@method_decorator(
    # Redoc writes its CSS as <style> elements and runs its search in a blob: worker.
    csp_update({"style-src": ["'unsafe-inline'"], "worker-src": ["'self'", "blob:"]}),
    name="dispatch",
)
class ApiDocsView(SpectacularRedocView):
    """/docs/: the API reference (Redoc) from this server's own files (static/vendor/redoc/),
    no CDN, no remote fonts or logo: it works offline."""

    template_name = "docs/redoc.html"


class PasswordResetView(auth_views.PasswordResetView):
    """Django's password reset, its emailed link on SITE_URL (read when the email is sent)."""

    template_name = "auth/password_reset_form.html"
    email_template_name = "auth/password_reset_email.txt"
    subject_template_name = "auth/password_reset_subject.txt"

    def form_valid(self, form):
        self.extra_email_context = {"site_url": settings.SITE_URL}
        return super().form_valid(form)
