"""LOG_FORMAT=json: one JSON object per line (docs/operations.md#logs).

Each line has `time`, `level`, `logger`, `message`, `request_id`, and `customer_id` /
`message_id` where known (sent_project.request_context.log_context), plus `exception` with
the traceback. Nothing else of the record is copied: a value passed in `extra=` or a request
object never reaches the line, and known secret shapes (API keys, bearer tokens, Basic auth)
are masked in whatever the message says.
"""

import json
import logging
import re
from datetime import UTC, datetime

from sent_project.request_context import LOG_FIELDS

# Our API keys (sent_ + 40 random characters), bearer/Basic credentials, and `key=value` pairs whose
# name says secret: masked wherever they appear in a message or a traceback.
SECRET_PATTERNS = [
    re.compile(r"\bsent_[A-Za-z0-9_\-]{30,}"),
    re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=\-]{8,}"),
    re.compile(
        r"(?i)\b(api[_-]?key|token|secret|password|auth[_-]?token|access[_-]?token)"
        r"(['\"]?\s*[:=]\s*['\"]?)[^\s'\",&]+"
    ),
]


def scrub(text: str) -> str:
    text = SECRET_PATTERNS[0].sub("sent_***", text)
    text = SECRET_PATTERNS[1].sub(lambda m: f"{m.group(1)} ***", text)
    return SECRET_PATTERNS[2].sub(lambda m: f"{m.group(1)}{m.group(2)}***", text)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": scrub(record.getMessage()),
            "request_id": getattr(record, "request_id", "-"),
        }
        for name in LOG_FIELDS:
            value = getattr(record, name, None)
            if value:
                line[name] = value
        if record.exc_info:
            line["exception"] = scrub(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False)


class PlainFormatter(logging.Formatter):
    """The default: one line of text, secrets masked the same way."""

    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))
