"""The plumbing's own pages: the API's 404, the API docs, the error reference and the
health checks."""

from csp.decorators import csp_update

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularRedocView

from sent_project.api.envelope import error_response
from sent_project.errors import CATALOGUE, NoSuchEndpoint
from sent_project.health import readiness_report


@csrf_exempt
def api_not_found(request: HttpRequest) -> HttpResponse:
    return error_response(NoSuchEndpoint(f"No endpoint {request.method} {request.path}"))


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
    """/docs/: the API reference (Redoc) from this server's own files, no CDN, no remote fonts."""

    template_name = "docs/redoc.html"
