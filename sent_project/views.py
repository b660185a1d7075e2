"""The plumbing's own pages: the API's 404, the API docs, the error reference and the health
check."""

from csp.decorators import csp_update

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularRedocView

from sent_project.api.envelope import error_response
from sent_project.errors import CATALOGUE, NoSuchEndpoint


@csrf_exempt
def api_not_found(request: HttpRequest) -> HttpResponse:
    return error_response(NoSuchEndpoint(f"No endpoint {request.method} {request.path}"))


def error_reference(request: HttpRequest) -> HttpResponse:
    codes = sorted(CATALOGUE.values(), key=lambda e: e.code)
    return render(request, "docs/errors.html", {"codes": codes})


def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@method_decorator(
    # Redoc writes its CSS as <style> elements and runs its search in a blob: worker.
    csp_update({"style-src": ["'unsafe-inline'"], "worker-src": ["'self'", "blob:"]}),
    name="dispatch",
)
class ApiDocsView(SpectacularRedocView):
    """/docs/: the API reference (Redoc) from this server's own files, no CDN, no remote fonts."""

    template_name = "docs/redoc.html"
