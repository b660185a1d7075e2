"""The one way API views validate input and answer a mistake.

- `validated(Serializer, request.data)`: a request body.
- `validated_query(Serializer, request.query_params)`: a query string.

Both return the validated data or raise `ValidationFailed` (400), whose code comes from
the one mapping below (`VALIDATION_CODES`, applied by `validation_code`) and whose
`details` are `{"field.sub.0": ["message", ...]}` (`flatten_details`). DRF's
`ValidationError` raised anywhere else goes through the same mapping (the exception
handler calls `validation_failed`), so the same mistake answers the same code on every
endpoint.

The mapping (docs/api/errors.md#validation). A mistake has one code wherever it is made,
by a serializer or by a service's own check:

- VALIDATION_004: a required value is missing, null or blank;
- VALIDATION_005: a value is out of range (a number too small or large, a text or a list
  too long or too short);
- VALIDATION_006: a value is not one of the allowed choices;
- VALIDATION_001: anything else (malformed, of the wrong type, a query parameter given
  twice), and a request with mistakes of several kinds at once.

VALIDATION_002 (not a phone number) and VALIDATION_003 (not an id) come from the checks that
know them. These are the codes the hosted service documents; the webhooks API answered them
and the other endpoints answered VALIDATION_001 for everything until they shared this module.
"""

from collections.abc import Mapping

from django import forms
from rest_framework import serializers

from sent_project.errors import ValidationFailed

DEFAULT_VALIDATION_CODE = "VALIDATION_001"

# DRF's error kinds (ErrorDetail.code) → our code. A kind not listed answers the default.
VALIDATION_CODES: dict[str, str] = {
    # Missing or empty: VALIDATION_004.
    **dict.fromkeys(["required", "null", "blank", "empty"], "VALIDATION_004"),
    # Out of range: VALIDATION_005.
    **dict.fromkeys(
        [
            "min_value",
            "max_value",
            "min_length",
            "max_length",
            "max_string_length",
            "max_digits",
            "max_decimal_places",
            "max_whole_digits",
        ],
        "VALIDATION_005",
    ),
    # Not one of the choices: VALIDATION_006.
    **dict.fromkeys(["invalid_choice"], "VALIDATION_006"),
    # Everything else — malformed or of the wrong type (`invalid`, `not_a_list`,
    # `incorrect_type`, `date`, `parse_error`…), a reference to nothing (`does_not_exist`), a
    # repeated query parameter (`repeated`) — is the general VALIDATION_001.
}


REPEATED_MESSAGE = "Give this parameter once."


def flatten_details(errors, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested serializer errors → {"field.sub.0.name": ["message", ...]}."""
    flat: dict[str, list[str]] = {}
    if isinstance(errors, dict):
        for key, value in errors.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            for k, v in flatten_details(value, path).items():
                flat.setdefault(k, []).extend(v)
    elif isinstance(errors, list):
        if all(not isinstance(item, dict | list) for item in errors):
            flat[prefix or "non_field_errors"] = [str(item) for item in errors]
        else:
            for index, item in enumerate(errors):
                if item:
                    for k, v in flatten_details(
                        item, f"{prefix}.{index}" if prefix else str(index)
                    ).items():
                        flat.setdefault(k, []).extend(v)
    else:
        flat[prefix or "non_field_errors"] = [str(errors)]
    return flat


def error_kinds(errors) -> set[str]:
    """Every ErrorDetail.code in DRF's (nested) errors; "invalid" for a bare string."""
    if isinstance(errors, Mapping):
        return set().union(*(error_kinds(v) for v in errors.values()))
    if isinstance(errors, list | tuple):
        return set().union(*(error_kinds(v) for v in errors))
    return {getattr(errors, "code", None) or "invalid"}


def validation_code(errors) -> str:
    """Our code for DRF's errors: the one their kinds map to, or VALIDATION_001 if they
    map to several (or to none)."""
    codes = {VALIDATION_CODES.get(kind, DEFAULT_VALIDATION_CODE) for kind in error_kinds(errors)}
    return codes.pop() if len(codes) == 1 else DEFAULT_VALIDATION_CODE


def validation_failed(errors) -> ValidationFailed:
    """DRF's errors (a serializer's `.errors`, a ValidationError's `.detail`) as our error."""
    return ValidationFailed(code=validation_code(errors), details=flatten_details(errors))


def _run(validator, data, context: dict) -> dict:
    if isinstance(validator, type) and issubclass(validator, forms.BaseForm):
        form = validator(data=data)
        if form.is_valid():
            return form.cleaned_data
        raise validation_failed(
            {
                field: [
                    serializers.ErrorDetail(message, code=error.code or "invalid")
                    for error in errors
                    for message in error.messages
                ]
                for field, errors in form.errors.as_data().items()
            }
        )
    if isinstance(validator, type):
        serializer = validator(data=data, context=context)
    else:
        serializer = validator
        serializer.initial_data = data
        serializer._context = {**serializer.context, **context}
    if serializer.is_valid():
        return serializer.validated_data
    raise validation_failed(serializer.errors)


def validated(serializer_class_or_instance, data, **context) -> dict:
    """`data` (a request body) validated by the serializer; else 400 `ValidationFailed`.

    Give a serializer class (instantiated with `data` and `context`) or an unbound instance
    (e.g. `Serializer(partial=True)`; `data` and `context` are given to it).
    """
    return _run(serializer_class_or_instance, data, context)


def validated_query(serializer_or_form, query_params, **context) -> dict:
    """The query string validated by a serializer (or Django form) class or instance.

    The policy of every endpoint that reads a query string:
    - A parameter the endpoint reads, given more than once (`?status=A&status=B`,
      `?page=1&page=2`), is refused: 400 VALIDATION_001 with `details` naming each repeated
      parameter ("Give this parameter once."), checked first. Lists are comma-joined in one
      parameter (`?status=A,B`, see `sent_project.api.query.comma_choices`), as the SDK sends
      them. This covers `page`/`page_size` too, which the paginator reads afterwards.
    - Unlike DRF's HTML-form handling, a present-but-empty value (`?status=`) is not absent:
      it is a blank value, 400 VALIDATION_004 naming the parameter (unless the field allows
      blank).
    - Parameters the endpoint doesn't read are ignored, repeated or not (a tracking
      parameter added by a proxy changes nothing).
    """
    declared = _declared_names(serializer_or_form) | PAGE_PARAMETERS
    repeated = [
        name for name, values in query_params.lists() if len(values) > 1 and name in declared
    ]
    if repeated:
        raise validation_failed(
            {
                name: [serializers.ErrorDetail(REPEATED_MESSAGE, code="repeated")]
                for name in repeated
            }
        )
    return _run(serializer_or_form, query_params.dict(), context)


PAGE_PARAMETERS = frozenset({"page", "page_size"})


def _declared_names(validator) -> set[str]:
    """The parameters a serializer or form (class or instance) reads."""
    if isinstance(validator, type) and issubclass(validator, forms.BaseForm):
        return set(validator.base_fields)
    if isinstance(validator, type):
        validator = validator()
    return set(validator.fields)


class PageQuerySerializer(serializers.Serializer):
    """The query of a list without filters: only `page`/`page_size` (read by the paginator)."""
