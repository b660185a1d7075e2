"""Query-string fields for list endpoints (validation: sent_project.api.validation)."""

from rest_framework import serializers


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
