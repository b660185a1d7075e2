"""OpenAPI: every response as it really is on the wire, i.e. inside the envelope."""

from drf_spectacular.openapi import AutoSchema

META = {
    "type": "object",
    "required": ["request_id", "timestamp", "version"],
    "properties": {
        "request_id": {"type": "string"},
        "timestamp": {"type": "string", "format": "date-time"},
        "version": {"type": "string", "enum": ["v3"]},
    },
}
ERROR = {
    "type": "object",
    "required": ["code", "message", "details", "doc_url"],
    "properties": {
        "code": {"type": "string", "description": "Stable machine code, FAMILY_NNN"},
        "message": {"type": "string"},
        "details": {
            "type": ["object", "null"],
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
        "doc_url": {"type": ["string", "null"]},
    },
}
PAGINATION = {
    "type": "object",
    "required": ["page", "page_size", "total_count", "total_pages", "has_more", "cursors"],
    "properties": {
        "page": {"type": "integer"},
        "page_size": {"type": "integer"},
        "total_count": {"type": "integer"},
        "total_pages": {"type": "integer"},
        "has_more": {"type": "boolean"},
        "cursors": {"type": ["object", "null"]},
        "total_count_is_estimate": {"type": "boolean"},
    },
}
ERROR_ENVELOPE = {
    "type": "object",
    "required": ["success", "data", "error", "meta"],
    "properties": {
        "success": {"type": "boolean", "enum": [False]},
        "data": {"type": "null"},
        "error": {"$ref": "#/components/schemas/Error"},
        "meta": {"$ref": "#/components/schemas/Meta"},
    },
}

COMMON_ERRORS = {
    "400": "Invalid request (validation, malformed JSON, bad Idempotency-Key)",
    "401": "Missing, invalid or revoked API key",
    "404": "Not found (or not yours: other accounts' objects are indistinguishable from missing ones)",
    "405": "Method not allowed",
    "406": "Not acceptable",
    "429": "Rate limit exceeded (see Retry-After)",
    "500": "Unexpected server error",
}
BODY_ERRORS = {
    "409": "A request with this Idempotency-Key is still in progress (see Retry-After)",
    "413": "Request body too large",
    "415": "Unsupported media type",
    "422": "Idempotency-Key reused with a different request",
}


class SentAutoSchema(AutoSchema):
    def _get_paginator(self):
        paginator = super()._get_paginator()
        if paginator is not None:
            paginator.items_key_for_schema = getattr(self.view, "items_key", "items")
        return paginator


def _wrap_success(schema: dict | None) -> dict:
    return {
        "type": "object",
        "required": ["success", "data", "error", "meta"],
        "properties": {
            "success": {"type": "boolean", "enum": [True]},
            "data": schema or {"type": ["object", "null"]},
            "error": {"type": "null"},
            "meta": {"$ref": "#/components/schemas/Meta"},
        },
    }


def wrap_responses_in_envelope(result, generator, request, public):
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Meta"] = META
    components["Error"] = ERROR
    components["ErrorEnvelope"] = ERROR_ENVELOPE
    components["Pagination"] = PAGINATION
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            for status, response in list(responses.items()):
                if not str(status).startswith("2"):
                    continue
                content = response.setdefault("content", {})
                media = content.setdefault("application/json", {})
                media["schema"] = _wrap_success(media.get("schema"))
            errors = dict(COMMON_ERRORS)
            if method in {"post", "put", "patch", "delete"}:
                errors.update(BODY_ERRORS)
            for status, description in errors.items():
                responses.setdefault(
                    status,
                    {
                        "description": description,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/ErrorEnvelope"}
                            }
                        },
                    },
                )
            for status, response in responses.items():
                if str(status)[0] in "45" and "content" not in response:
                    response["content"] = {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/ErrorEnvelope"}
                        }
                    }
    return result
