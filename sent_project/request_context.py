"""The request being served, for code that must not know about HTTP.

Domain code (services, tasks) stamps what it writes with the id of the request that caused it
(outbox events, consent records, webhook tests) through `current_request_id`. The HTTP layer
(`sent_project.api.middleware.RequestIdMiddleware`) opens a request with `request_started`;
outside a request, e.g. in a task, each call gives a fresh id.
"""

import contextlib
import contextvars
import logging
import uuid

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


def new_request_id() -> str:
    return f"req_{uuid.uuid4().hex}"


def current_request_id() -> str:
    """The id of the request being served (a fresh one outside a request, e.g. in a task)."""
    value = _request_id.get()
    return new_request_id() if value == "-" else value


def request_started(request_id: str) -> contextvars.Token:
    """Make `request_id` current (and nobody the actor yet); give the token back to
    `request_finished`."""
    _log_fields.set({})
    _actor.set(None)
    _cache_versions.set(None)
    return _request_id.set(request_id)


def request_finished(token: contextvars.Token) -> None:
    _actor.set(None)
    _cache_versions.set(None)
    _request_id.reset(token)
    _log_fields.set({})


# Ids that log lines carry while they are known (docs/operations.md#logs): the customer once
# a request authenticated, the message a job is working on. Ids only: never a key or a body.
LOG_FIELDS = ("customer_id", "message_id")
_log_fields: contextvars.ContextVar[dict | None] = contextvars.ContextVar(
    "log_fields", default=None
)


def log_context_set(**fields) -> None:
    """Add ids (`customer_id`, `message_id`) to every log line of this request or job."""
    unknown = set(fields) - set(LOG_FIELDS)
    if unknown:
        raise ValueError(f"not a log field: {', '.join(sorted(unknown))}")
    _log_fields.set({**(_log_fields.get() or {}), **{k: str(v) for k, v in fields.items()}})


@contextlib.contextmanager
def log_context(**fields):
    """`with log_context(message_id=…):` the lines logged inside carry it."""
    token = _log_fields.set(dict(_log_fields.get() or {}))
    log_context_set(**fields)
    try:
        yield
    finally:
        _log_fields.reset(token)


class RequestIdLogFilter(logging.Filter):
    """Adds `request_id` to every log record ("-" outside a request), and the known ids of
    `log_context`."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        for name, value in (_log_fields.get() or {}).items():
            setattr(record, name, value)
        return True


# Who is acting in the request being served: a dashboard user or an API key (set by the
# billing app, which owns both; read by the audit log). None outside a request or before
# authentication. Reset at the start of every request.
_actor: contextvars.ContextVar[object | None] = contextvars.ContextVar("actor", default=None)


def set_current_actor(actor) -> None:
    _actor.set(actor)


def current_actor():
    return _actor.get()


# The send-path cache counters this request's API key statement read, by customer id (set by
# billing.caching; read where only a customer id is at hand, e.g. an event's webhook
# subscriptions). None outside a request. Reset at the start and end of every request.
_cache_versions: contextvars.ContextVar[dict | None] = contextvars.ContextVar(
    "cache_versions", default=None
)


def cache_versions_note(customer_id, versions: tuple) -> None:
    _cache_versions.set({**(_cache_versions.get() or {}), customer_id: versions})


def cache_versions_of(customer_id) -> tuple | None:
    return (_cache_versions.get() or {}).get(customer_id)
