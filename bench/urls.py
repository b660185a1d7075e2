"""The real URLconf plus the benchmark's reference endpoint (ROOT_URLCONF=bench.urls).

The reference is the floor the issue measures against: one API key lookup and two inserts in
one transaction, with no framework on top — what any "accept a message" endpoint must at
least do. Our real endpoints are reported as a ratio of it.

The framework floor is the same work behind our API plumbing (DRF view, API-key
authentication, throttle, envelope renderer, JSON parser): what any endpoint of ours pays
before it does anything of its own.
"""

import json
import uuid

from django.db import connection, transaction
from django.http import HttpResponse, JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.services import hash_api_key
from sent_project.urls import urlpatterns as real_urlpatterns

CREATE_TABLE = """CREATE TABLE IF NOT EXISTS bench_reference (
    id bigserial PRIMARY KEY, customer_id uuid NOT NULL, kind text NOT NULL,
    payload text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())"""


@csrf_exempt
def reference(request):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT customer_id FROM billing_apikey WHERE key_hash = %s AND revoked_at IS NULL",
            [hash_api_key(request.headers.get("x-api-key", ""))],
        )
        row = cursor.fetchone()
    if row is None:
        return HttpResponse(status=401)
    message_id = _insert_two(row[0], request.body.decode() or "{}")
    return JsonResponse({"message_id": str(message_id)}, status=202)


def _insert_two(customer_id, body: str) -> uuid.UUID:
    message_id = uuid.uuid4()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO bench_reference (customer_id, kind, payload) VALUES (%s, %s, %s)",
            [customer_id, "message", body],
        )
        cursor.execute(
            "INSERT INTO bench_reference (customer_id, kind, payload) VALUES (%s, %s, %s)",
            [customer_id, "event", json.dumps({"message_id": str(message_id)})],
        )
    return message_id


class FrameworkFloor(APIView):
    """The reference's work as one of our API views: key lookup by our authentication."""

    def post(self, request):
        message_id = _insert_two(request.user.customer.pk, json.dumps(request.data))
        return Response({"message_id": str(message_id)}, status=202)


urlpatterns = [
    path("bench/reference", reference),
    path("bench/framework-floor", FrameworkFloor.as_view()),
    path("", include(real_urlpatterns)),
]
