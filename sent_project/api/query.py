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


def comma_choices(choices: list[str], example: str) -> serializers.RegexField:
    """A filter taking one or more of `choices`, comma-joined (`?status=APPROVED,PENDING`).
    It validates the string; the serializer's `validate_<field>` splits it."""
    alternatives = "|".join(choices)
    return serializers.RegexField(
        rf"^({alternatives})(,({alternatives}))*$",
        required=False,
        help_text=f"One or more, comma-joined: {example}.",
        error_messages={"invalid": f"Use one or more of {', '.join(choices)}, comma-joined."},
    )
