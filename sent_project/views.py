from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt

from sent_project.api.envelope import error_response
from sent_project.dashboard import customer_required
from sent_project.errors import CATALOGUE
from sent_project.home import RATE_DAYS, attention, first_steps, traffic


@csrf_exempt
def api_not_found(request: HttpRequest) -> HttpResponse:
    return error_response("RESOURCE_009", f"No endpoint {request.method} {request.path}")


def error_reference(request: HttpRequest) -> HttpResponse:
    codes = sorted(CATALOGUE.values(), key=lambda e: e.code)
    return render(request, "docs/errors.html", {"codes": codes})


def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@customer_required
def home(request: HttpRequest) -> HttpResponse:
    customer = request.customer
    steps = first_steps(customer)
    context = {
        "customer": customer,
        "notices": attention(customer),
        "steps": steps if not all(step.done for step in steps) else [],
        "steps_done": sum(step.done for step in steps),
        "traffic": traffic(customer),
        "rate_days": RATE_DAYS,
    }
    return render(request, "home.html", context)
