"""Recording provider callbacks, and applying a verified one exactly once."""

import hashlib
from collections.abc import Callable

from django.conf import settings
from django.db import IntegrityError, transaction

from messaging.dispatch import retrying
from messaging.models import CallbackOutcome, ProviderAccount, ProviderCallback


def public_url(request) -> str:
    """The URL the provider called, as it signed it: our public SITE_URL (not the Host the
    request came in with, which a proxy may have rewritten) + the path and query."""
    return settings.SITE_URL + request.get_full_path()


def _record(*, provider, kind, url, body: bytes, remote_addr, account, outcome, detail, digest):
    return ProviderCallback.objects.create(
        provider=provider,
        kind=kind,
        url=url[:2048],
        body=body[: settings.PROVIDER_CALLBACK_BODY_LIMIT].decode("utf-8", "replace"),
        remote_addr=remote_addr or None,
        account=account,
        outcome=outcome,
        detail=detail[:300],
        digest=digest,
    )


def callback_rejected(
    *, provider: str, kind: str, url: str, body: bytes, remote_addr: str | None, detail: str
) -> ProviderCallback:
    """A request whose signature is missing or wrong: kept for the operator, not applied."""
    return _record(
        provider=provider,
        kind=kind,
        url=url,
        body=body,
        remote_addr=remote_addr,
        account=None,
        outcome=CallbackOutcome.REJECTED,
        detail=detail,
        digest=None,
    )


@retrying
def callback_apply(
    *,
    provider: str,
    kind: str,
    url: str,
    body: bytes,
    remote_addr: str | None,
    account: ProviderAccount | None,
    apply: Callable[[], tuple[str, str]],
) -> str:
    """Record a verified request and run `apply` (which returns (outcome, detail)) in the
    same transaction, once: the same URL and body again is recorded as a DUPLICATE and not
    applied. If `apply` fails, nothing is recorded and the provider's retry is applied; when
    the database aborts the transaction (a deadlock, a lock wait past SQLite's timeout: many
    callbacks at once), it runs again from the start, up to 3 times."""
    digest = hashlib.sha256(url.encode() + b"\n" + body).hexdigest()
    fields = dict(
        provider=provider, kind=kind, url=url, body=body, remote_addr=remote_addr, account=account
    )
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = _record(
                    **fields, outcome=CallbackOutcome.APPLIED, detail="", digest=digest
                )
        except IntegrityError:
            _record(
                **fields,
                outcome=CallbackOutcome.DUPLICATE,
                detail="The same request was applied before: nothing changed",
                digest=None,
            )
            return CallbackOutcome.DUPLICATE
        outcome, detail = apply()
        if outcome != record.outcome or detail:
            record.outcome, record.detail = outcome, detail[:300]
            record.save(update_fields=["outcome", "detail"])
    return outcome
