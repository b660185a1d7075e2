"""The request being served, for code that must not know about HTTP.

Domain code (services, tasks) stamps what it writes with the id of the request that caused it
(outbox events, consent records, webhook tests) through `current_request_id`. The HTTP layer
(`sent_project.api.middleware.RequestIdMiddleware`) opens a request with `request_started`;
outside a request, e.g. in a task, each call gives a fresh id.
"""

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
    _actor.set(None)
    return _request_id.set(request_id)


def request_finished(token: contextvars.Token) -> None:
    _actor.set(None)
    _request_id.reset(token)


class RequestIdLogFilter(logging.Filter):
    """Adds `request_id` to every log record ("-" outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True


# Who is acting in the request being served: a dashboard user or an API key (set by the
# billing app, which owns both; read by the audit log). None outside a request or before
# authentication. Reset at the start of every request.
_actor: contextvars.ContextVar[object | None] = contextvars.ContextVar("actor", default=None)


def set_current_actor(actor) -> None:
    _actor.set(actor)


def current_actor():
    return _actor.get()
