"""Query-string fields for list endpoints (validation: sent_project.api.validation)."""

from rest_framework import serializers


class CommaChoicesField(serializers.RegexField):
    """One or more of `choices`, comma-joined (`?status=APPROVED,PENDING`). Validates the string
    and keeps it; the serializer's `validate_<field>` splits it. A part that is not a choice is
    an `invalid_choice` mistake, like a single-choice field's (VALIDATION_006)."""

    def __init__(self, choices: list[str], **kwargs):
        self.choices = list(choices)
        alternatives = "|".join(self.choices)  # the pattern documents the field in the schema
        kwargs.setdefault(
            "error_messages",
            {"invalid_choice": f"Use one or more of {', '.join(self.choices)}, comma-joined."},
        )
        super().__init__(rf"^({alternatives})(,({alternatives}))*$", **kwargs)

    def to_internal_value(self, data) -> str:
        value = super().to_internal_value(data)
        if any(part not in self.choices for part in value.split(",")):
            self.fail("invalid_choice")
        return value


def comma_choices(choices: list[str], example: str) -> CommaChoicesField:
    """A filter taking one or more of `choices`, comma-joined."""
    return CommaChoicesField(
        choices, required=False, help_text=f"One or more, comma-joined: {example}."
    )
