"""The response envelope every /v3 response uses: {success, data, error, meta}."""

import json
import re
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from sent_project.errors import SentError
from sent_project.request_context import current_request_id

SURROGATE = re.compile("[\ud800-\udfff]")


def error_object(error: SentError) -> dict:
    """The envelope's `error` member for an error."""
    return {
        "code": error.code,
        "message": error.message,
        "details": error.details,
        "doc_url": f"{settings.SITE_URL}/docs/errors/#{error.code}",
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


def error_response(error: SentError) -> JsonResponse:
    """A plain Django response in the error envelope, for code outside DRF views."""
    response = JsonResponse(
        envelope(error=error_object(error)), status=error.status, encoder=DjangoJSONEncoder
    )
    for name, value in error.headers.items():
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
        text = json.dumps(body, cls=DjangoJSONEncoder, ensure_ascii=False)
        try:
            return text.encode()
        except UnicodeEncodeError:
            # Echoed input holding a lone surrogate (not a character): U+FFFD in its place.
            return SURROGATE.sub("\ufffd", text).encode()
