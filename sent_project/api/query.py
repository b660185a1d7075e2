"""Query-string validation for list endpoints."""

from rest_framework import serializers


def query_params(request, serializer_class: type[serializers.Serializer]) -> dict:
    """The query string validated by `serializer_class` (also the OpenAPI `parameters`).

    Unlike DRF's HTML-form handling, a present-but-empty value (`?status=`) is invalid, not
    absent: it answers 400 VALIDATION_001 naming the parameter, like any other bad value.
    """
    serializer = serializer_class(data=request.query_params.dict())
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
