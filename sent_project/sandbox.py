"""Sandbox requests: `"sandbox": true` in a body asks for the real answer without its effects.

Operations that only write rows (contacts, templates, webhook endpoints) run for real inside
a transaction that is then rolled back (`in_sandbox`): nothing is stored, no event or task
is queued, and the answer is exactly the one the real call would give. Every sandbox answer
carries `X-Sandbox: true` (`sandbox_headers`).
"""

from django.db import transaction

SANDBOX_HEADERS = {"X-Sandbox": "true"}


def sandbox_headers(sandbox: bool) -> dict[str, str] | None:
    """The response headers of a request with this `sandbox` flag."""
    return dict(SANDBOX_HEADERS) if sandbox else None


def in_sandbox(sandbox: bool, operation):
    """`operation()`; with `sandbox`, inside a transaction that is rolled back afterwards."""
    if not sandbox:
        return operation()
    with transaction.atomic():
        result = operation()
        transaction.set_rollback(True)
    return result
