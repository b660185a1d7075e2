"""The API's request-body parser."""

import io
import re

from rest_framework import parsers
from rest_framework.exceptions import ParseError

from sent_project.errors import MalformedJson

# A JSON escape of a UTF-16 surrogate (\ud800–\udfff): a pair is one character, a lone one is
# none, and no text column, JSON encoder or UTF-8 response can hold it.
SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
SURROGATE = re.compile("[\ud800-\udfff]")


def has_lone_surrogate(data) -> bool:
    """Whether a string anywhere in parsed JSON (keys included) holds a lone surrogate
    (json.loads joins the escapes of a pair into one character). Iterative: any depth."""
    pending = [data]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, plus:
    - JSON nested deeper than Python's recursion limit (a 200 kB body of `[[[…]]]` is enough)
      is malformed JSON, 400 REQUEST_001, not a RecursionError;
    - so is a string holding a lone UTF-16 surrogate (`"\\ud800"`): it is not text, and
      nothing behind the API could store or echo it (docs/api/errors.md#REQUEST_001)."""

    def parse(self, stream, media_type=None, parser_context=None):
        body = stream.read() if stream is not None else b""
        try:
            data = super().parse(io.BytesIO(body), media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply") from None
        if SURROGATE_ESCAPE.search(body) and has_lone_surrogate(data):
            raise MalformedJson(
                "Malformed JSON in the request body: a string holds a lone UTF-16 surrogate "
                "(\\ud800-\\udfff), which is not a character"
            )
        return data
