"""The base for request-body serializers: JSON types are checked before DRF coerces them."""

from collections.abc import Mapping

from rest_framework import serializers
from rest_framework.fields import empty

# (field class, accepted JSON types, name in the error). Order matters: subclasses first.
STRICT_TYPES: list[tuple[type[serializers.Field], tuple[type, ...], str]] = [
    (serializers.BooleanField, (bool,), "a boolean"),
    (serializers.IntegerField, (int,), "an integer"),
    (serializers.FloatField, (int, float), "a number"),
    (serializers.DecimalField, (str, int, float), "a number or a decimal string"),
    (serializers.ChoiceField, (str,), "a string"),
    (serializers.CharField, (str,), "a string"),
    (serializers.UUIDField, (str,), "a string"),
    (serializers.DateTimeField, (str,), "a string"),
]


def json_type_errors(field: serializers.Field, value, path: str) -> dict[str, list[str]]:
    """{field path: [message]} for every value not of the JSON type `field` takes."""
    if value is None:
        return {}
    if isinstance(field, serializers.ListField):
        if not isinstance(value, list):
            return {path: ["Must be a JSON array."]}
        errors: dict[str, list[str]] = {}
        for index, item in enumerate(value):
            errors |= json_type_errors(field.child, item, f"{path}.{index}")
        return errors
    if isinstance(field, serializers.DictField):
        if not isinstance(value, Mapping):
            return {path: ["Must be a JSON object."]}
        errors = {}
        for key, item in value.items():
            errors |= json_type_errors(field.child, item, f"{path}.{key}")
        return errors
    for field_class, types, name in STRICT_TYPES:
        if isinstance(field, field_class):
            wrong = (isinstance(value, bool) and bool not in types) or not isinstance(value, types)
            return {path: [f"Must be {name}."]} if wrong else {}
    return {}


class JsonInputSerializer(serializers.Serializer):
    """Request bodies: `0` is not a string, `"1"` is not an integer, `"yes"` is not a boolean.

    DRF coerces such values (it was built for HTML forms too); our API is JSON-only and says
    so in its schema, so a value of the wrong JSON type is a 400 naming the field, as the
    OpenAPI schema promises. Nested serializers should derive from this class too.
    """

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            errors: dict[str, list[str]] = {}
            for field in self._writable_fields:
                value = data.get(field.field_name, empty)
                if value is not empty:
                    errors |= json_type_errors(field, value, field.field_name)
            if errors:
                # Also report what else is wrong, for the fields that had the right types.
                wrong = {path.split(".")[0] for path in errors}
                try:
                    super().to_internal_value({k: v for k, v in data.items() if k not in wrong})
                except serializers.ValidationError as exc:
                    if isinstance(exc.detail, Mapping):
                        errors |= {k: v for k, v in exc.detail.items() if k not in wrong}
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """JSON true/false only (DRF also takes 0, 1, "yes"…, which the schema doesn't allow).

    For serializers that don't derive from JsonInputSerializer, which checks this already.
    """

    def to_internal_value(self, data):
        if isinstance(data, bool):
            return data
        self.fail("invalid", input=data)
