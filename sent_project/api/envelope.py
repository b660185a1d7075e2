"""The response envelope every /v3 response uses: {success, data, error, meta}."""

import json
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from sent_project.errors import CATALOGUE
from sent_project.request_context import current_request_id


def error_object(code: str, message: str | None = None, details: dict | None = None) -> dict:
    entry = CATALOGUE[code]
    return {
        "code": code,
        "message": message or entry.message,
        "details": details,
        "doc_url": f"{settings.SITE_URL}/docs/errors/#{code}",
    }


def envelope(*, data: Any = None, error: dict | None = None) -> dict:
    return {
        "success": error is None,
        "data": None if error is not None else data,
        "error": error,
        "meta": {
            "request_id": current_request_id(),
            "timestamp": timezone.now().isoformat().replace("+00:00", "Z"),
            "version": "v3",
        },
    }


def error_response(
    code: str,
    message: str | None = None,
    *,
    details: dict | None = None,
    status: int | None = None,
    headers: dict[str, str] | None = None,
) -> JsonResponse:
    """A plain Django response in the error envelope, for code outside DRF views."""
    response = JsonResponse(
        envelope(error=error_object(code, message, details)),
        status=status or CATALOGUE[code].status,
        encoder=DjangoJSONEncoder,
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def is_api_request(request: HttpRequest) -> bool:
    return request.path.startswith("/v3/") or request.path == "/v3"


class EnvelopeJSONRenderer(JSONRenderer):
    """Wraps whatever a DRF view returns in the envelope.

    Error responses arrive from the exception handler as an error object
    (code/message/details/doc_url) and go in `error`; everything else goes in `data`.
    """

    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if response is not None and response.status_code == 204:
            return b""
        if response is not None and response.status_code >= 400:
            body = envelope(error=data)
        else:
            body = envelope(data=data)
        return json.dumps(body, cls=DjangoJSONEncoder, ensure_ascii=False).encode()
