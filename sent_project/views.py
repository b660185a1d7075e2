"""The plumbing's own pages: the API's 404, the error reference and the health check."""

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt

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


class PasswordResetView(auth_views.PasswordResetView):
    """Django's password reset, its emailed link on SITE_URL (read when the email is sent)."""

    template_name = "auth/password_reset_form.html"
    email_template_name = "auth/password_reset_email.txt"
    subject_template_name = "auth/password_reset_subject.txt"

    def form_valid(self, form):
        self.extra_email_context = {"site_url": settings.SITE_URL}
        return super().form_valid(form)
