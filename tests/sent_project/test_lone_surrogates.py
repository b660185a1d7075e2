"""A lone UTF-16 surrogate ("\\ud800") in any string of a request body — every string field of
every write endpoint in the OpenAPI schema, object keys too — is answered in the envelope,
never a 500; where the answer echoes it, U+FFFD stands in for it (docs/api/errors.md#echoed-input)."""

import json

import pytest

from drf_spectacular.generators import SchemaGenerator

from tests.sent_project.test_bola_sweep import ID_MAKERS

LONE = "\ud800"
WRITE_METHODS = ("post", "put", "patch")


def _resolve(schema: dict, components: dict) -> dict:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[1]]
    return schema


def injections(schema: dict, components: dict, depth: int = 0):
    """(where, value) for every place a string goes in `schema`, the value holding LONE there."""
    schema = _resolve(schema, components)
    if depth > 5:
        return
    for combined in ("allOf", "oneOf", "anyOf"):
        for part in schema.get(combined, []):
            yield from injections(part, components, depth + 1)
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    if "string" in kinds or ("enum" in schema and kind is None):
        yield "", LONE
    if "array" in kinds and "items" in schema:
        for where, value in injections(schema["items"], components, depth + 1):
            yield f"[]{where}", [value]
    if "object" in kinds or "properties" in schema:
        for name, prop in schema.get("properties", {}).items():
            for where, value in injections(prop, components, depth + 1):
                yield f".{name}{where}", {name: value}
        if schema.get("additionalProperties"):
            yield ".<key>", {LONE: "x"}


def cases():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]
    for path, item in schema["paths"].items():
        for method in WRITE_METHODS:
            body = item.get(method, {}).get("requestBody", {})
            body_schema = body.get("content", {}).get("application/json", {}).get("schema")
            if body_schema is None:
                continue
            for where, value in injections(body_schema, components):
                yield pytest.param(method, path, value, id=f"{method} {path} {where or '<body>'}")


CASES = list(cases())


def test_the_walk_reaches_the_fields_that_used_to_fail():
    ids = {case.id for case in CASES}
    for expected in [
        "post /v3/webhooks .event_types[]",
        "post /v3/webhooks/{id}/test .event_type",
        "post /v3/templates .category",
        "post /v3/templates/{id}/preview .parameters.<key>",
        "post /v3/messages .channel[]",
    ]:
        assert expected in ids, sorted(ids)


@pytest.mark.parametrize(("method", "path", "body"), CASES)
def test_a_lone_surrogate_never_makes_a_500(api_client, account, method, path, body):
    params = ID_MAKERS[path](account) if "{" in path else {}
    response = api_client.generic(
        method.upper(),
        path.format(**params),
        json.dumps(body),  # ASCII: the surrogate travels as the escape \ud800
        content_type="application/json",
    )
    assert response.status_code < 500, response.content
    body = response.json()  # UTF-8 JSON, the surrogate replaced by U+FFFD where echoed
    assert set(body) == {"success", "data", "error", "meta"}


def test_a_surrogate_pair_is_one_character_and_accepted(api_client):
    body = json.dumps({"phone_number": "+14155550123", "metadata": {"mood": "\U0001f600"}})
    assert "\\ud83d\\ude00" in body
    response = api_client.generic("POST", "/v3/contacts", body, content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["data"]["metadata"] == {"mood": "\U0001f600"}
