"""Recording provider callbacks, and applying the verified ones once, many at a time
(docs/providers/README.md#callbacks).

The request (messaging.callbacks.views) checks the signature and records the callback, then
answers at once:

- a missing or wrong signature: REJECTED (`callback_rejected`), never applied;
- the same URL and body as a verified request before: DUPLICATE, nothing changes;
- else PENDING (`callback_record`, the body kept whole; one INSERT), and the callbacks job is
  woken: enqueued CALLBACK_COALESCE_SECONDS ahead unless one already waits, so a burst of
  callbacks leaves one job.

The job (`callbacks_apply_pending`, run by `messaging.tasks.provider_callbacks_apply` in the
receipts lane) takes the pending records oldest first, CALLBACK_BATCH_SIZE at a time, and
applies each batch in one transaction: every status of every record in one
`receipts_apply_each` call (the path the simulator's receipts take: forward only, history
kept), then each record's other contents — an inbound message, a template's verdict — in a
savepoint of its own, and every record's outcome and detail in one UPDATE. A record whose
contents raise an error is marked FAILED with it (and logged); the rest of the batch is
applied. The admin's "apply again" makes a FAILED record PENDING again. The reconciler wakes
the job for records PENDING for longer than PROVIDER_CALLBACK_STUCK_SECONDS (a worker that
died mid-batch, a lost wake-up).
"""

import hashlib
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, OperationalError, transaction
from django.db.models.functions import Length

from messaging import task_backend
from messaging.dispatch import Scheduler, retrying
from messaging.models import CallbackOutcome, ProviderAccount, ProviderCallback
from messaging.receipts import Receipt, receipts_apply_each

logger = logging.getLogger(__name__)
CALLBACKS_TASK = "messaging.tasks.provider_callbacks_apply"
# Records applied in one transaction (their receipts in one `receipts_apply_each`), and the
# most characters of their bodies one batch holds (a record at least).
CALLBACK_BATCH_SIZE = 500
CALLBACK_BATCH_CHARACTERS = 16 * 1024 * 1024
# A job applies batches for about this long, then hands on to a new job (the lane's other
# jobs take their turn).
CALLBACK_JOB_SECONDS = 10.0
# A callbacks job RUNNING for longer than this is taken for dead (its worker stopped): the
# reconciler no longer waits for it before waking a new one.
CALLBACK_JOB_ALIVE_SECONDS = 3 * CALLBACK_JOB_SECONDS + 60
# A woken job runs this long after the callback that woke it: the callbacks of that moment
# (a provider calls back as fast as we send) are applied by one job, in one batch.
CALLBACK_COALESCE_SECONDS = 0.1


def public_url(request) -> str:
    """The URL the provider called, as it signed it: our public SITE_URL (not the Host the
    request came in with, which a proxy may have rewritten) + the path and query."""
    return settings.SITE_URL + request.get_full_path()


def _record(*, provider, kind, url, body: str, remote_addr, account, outcome, detail, digest):
    return ProviderCallback.objects.create(
        provider=provider,
        kind=kind,
        url=url[:2048],
        body=body,
        remote_addr=remote_addr or None,
        account=account,
        outcome=outcome,
        detail=detail[:300],
        digest=digest,
    )


def callback_rejected(
    *, provider: str, kind: str, url: str, body: bytes, remote_addr: str | None, detail: str
) -> ProviderCallback:
    """A request whose signature is missing or wrong: kept for the operator (its body cut at
    PROVIDER_CALLBACK_BODY_LIMIT characters), never applied."""
    return _record(
        provider=provider,
        kind=kind,
        url=url,
        body=body[: settings.PROVIDER_CALLBACK_BODY_LIMIT].decode("utf-8", "replace"),
        remote_addr=remote_addr,
        account=None,
        outcome=CallbackOutcome.REJECTED,
        detail=detail,
        digest=None,
    )


def callback_record(
    *,
    provider: str,
    kind: str,
    url: str,
    body: bytes,
    remote_addr: str | None,
    account: ProviderAccount | None,
    scheduler: Scheduler,
) -> str:
    """Record a verified request PENDING, then wake the callbacks job; the same URL and body
    again is recorded as a DUPLICATE, a body over PROVIDER_CALLBACK_MAX_BYTES as REJECTED
    (never applied). Returns the outcome.

    Outside a transaction (a request) that is one INSERT, committed on its own, then
    `scheduler.callbacks()` — a job is enqueued unless one waits to run: a job that hasn't
    started will read this record, as it is committed already (inside a transaction the
    wake-up waits for its commit). A process that dies between the two leaves a PENDING record
    without a job: the reconciler wakes one."""
    if len(body) > settings.PROVIDER_CALLBACK_MAX_BYTES:
        callback_rejected(
            provider=provider,
            kind=kind,
            url=url,
            body=body,
            remote_addr=remote_addr,
            detail=f"The body is {len(body)} bytes, over PROVIDER_CALLBACK_MAX_BYTES "
            f"({settings.PROVIDER_CALLBACK_MAX_BYTES}): not applied",
        )
        return CallbackOutcome.REJECTED
    digest = hashlib.sha256(url.encode() + b"\n" + body).hexdigest()
    fields = dict(
        provider=provider,
        kind=kind,
        url=url,
        body=body.decode("utf-8", "replace"),
        remote_addr=remote_addr,
        account=account,
    )
    try:
        with _statement():
            _record(**fields, outcome=CallbackOutcome.PENDING, detail="", digest=digest)
    except IntegrityError:
        _record(
            **fields,
            outcome=CallbackOutcome.DUPLICATE,
            detail="The same request was recorded before: nothing changed",
            digest=None,
        )
        return CallbackOutcome.DUPLICATE
    _wake_after_commit(scheduler)
    return CallbackOutcome.PENDING


def _wake_after_commit(scheduler: Scheduler) -> None:
    """The job is woken once what it must read is committed: at once outside a transaction
    (a request), else when the caller's commits."""
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(scheduler.callbacks)
    else:
        scheduler.callbacks()


def _statement():
    """A savepoint inside a transaction (so a failed INSERT doesn't abort it); outside one,
    nothing: the statement commits on its own."""
    return transaction.atomic() if transaction.get_connection().in_atomic_block else nullcontext()


# --- applying the pending ones ---------------------------------------------------------------


@dataclass
class Applying:
    """What a pending record holds, as its provider reads it: its statuses as receipts
    (applied with every other record's of the batch), and `finish`, which applies the rest
    of it given what happened to its receipts (`receipts_apply_each`'s outcomes, in order)
    and returns the record's (outcome, detail)."""

    finish: Callable[[list[str]], tuple[str, str]]
    receipts: list[Receipt] = field(default_factory=list)
    # Whether `finish` writes (an inbound message, a verdict): then it runs in a savepoint of
    # its own. A record of statuses only just names its outcome: no savepoint to pay for.
    writes: bool = True


def signed_scope(
    record: ProviderCallback,
    environment_account_id: str,
    *,
    also: Iterable[ProviderAccount] = (),
    environment_too: bool = False,
) -> frozenset:
    """Whose messages and numbers a verified record may touch: those of the senders on the
    provider account whose secret signed it (and on the accounts in `also`, which the same
    secret verifies: one Meta app serving several WABAs) — and the install's default route
    (None) when the environment's credentials signed it (`environment_too`: they would have),
    or a signer is the environment's own account (the same account id), with the senders of
    any account row holding that id. A tenant's own account can't sign for another's."""
    signers = [*([record.account] if record.account_id else []), *also]
    scope = {account.pk for account in signers}
    if (
        record.account_id is None
        or environment_too
        or any(account.account_id == environment_account_id for account in signers)
    ):
        scope.add(None)
        if environment_account_id:  # even one turned off since: its messages went out there
            scope |= set(
                ProviderAccount.objects.filter(
                    kind=record.provider, account_id=environment_account_id
                ).values_list("pk", flat=True)
            )
    return frozenset(scope)


# Per provider (ProviderKind): how to read one of its records.
Reader = Callable[[ProviderCallback], Applying]


def _failed(record: ProviderCallback, what: str, error: Exception) -> None:
    logger.exception("provider callback %s: %s raised", record.pk, what)
    record.outcome = CallbackOutcome.FAILED
    record.detail = f"{what} raised {type(error).__name__}: {error}"[:300]


def _pending():
    return ProviderCallback.objects.filter(outcome=CallbackOutcome.PENDING).order_by(
        "received_at", "id"
    )


@retrying
def _apply_batch(readers: Mapping[str, Reader], batch_size: int, *, pk=None) -> int:
    """Apply up to `batch_size` pending records (only record `pk`, if given; see the module
    doc); how many."""
    with transaction.atomic():
        pending = _pending() if pk is None else _pending().filter(pk=pk)
        # The batch's rows by their bodies' size first: at most CALLBACK_BATCH_CHARACTERS of
        # them in memory (one record at least), however large each is.
        heads = pending.select_for_update(skip_locked=True, of=("self",)).annotate(
            size=Length("body")
        )
        chosen, size = [], 0
        for record_pk, record_size in heads.values_list("pk", "size")[:batch_size]:
            if chosen and size + record_size > CALLBACK_BATCH_CHARACTERS:
                break
            chosen.append(record_pk)
            size += record_size
        records = list(_pending().filter(pk__in=chosen).select_related("account"))
        if not records:
            return 0
        plans: list[tuple[ProviderCallback, Applying]] = []
        for record in records:
            try:
                plans.append((record, readers[record.provider](record)))
            except OperationalError:
                raise
            except Exception as error:  # a body its provider's reader can't take
                _failed(record, "Reading it", error)
        # Records of statuses only: their receipts in one pass. A record that also writes has
        # its statuses applied with the rest of it, in its savepoint: all of it or nothing.
        receipts = [receipt for _, plan in plans if not plan.writes for receipt in plan.receipts]
        outcomes: list[str] | None = None
        try:
            with transaction.atomic():
                outcomes = receipts_apply_each(receipts)
        except OperationalError:
            raise
        except Exception:  # one record's statuses: apply them record by record below
            logger.exception(
                "applying %s receipts together raised: one record at a time", len(receipts)
            )
        start = 0
        for record, plan in plans:
            own = None
            if outcomes is not None and not plan.writes:
                own = outcomes[start : start + len(plan.receipts)]
                start += len(plan.receipts)
            try:
                if own is not None:
                    outcome, detail = plan.finish(own)
                else:
                    with transaction.atomic():
                        if own is None:
                            own = receipts_apply_each(plan.receipts)
                        outcome, detail = plan.finish(own)
            except OperationalError:
                raise
            except Exception as error:
                _failed(record, "Applying it", error)
                continue
            record.outcome, record.detail = outcome, detail[:300]
        outcomes_of: dict[tuple[str, str], list[int]] = {}
        for record in records:  # most of a batch share one: an UPDATE each
            outcomes_of.setdefault((record.outcome, record.detail), []).append(record.pk)
        for (outcome, detail), pks in outcomes_of.items():
            ProviderCallback.objects.filter(pk__in=pks).update(outcome=outcome, detail=detail)
    return len(records)


def callbacks_apply_pending(
    readers: Mapping[str, Reader], *, batch_size: int, seconds: float
) -> dict:
    """Apply the pending records, batch after batch, for about `seconds`: {"applied": how
    many records, "more": whether pending ones may be left}."""
    deadline = time.monotonic() + seconds
    applied = 0
    while True:
        try:
            count = _apply_batch(readers, batch_size)
        except OperationalError:  # aborted every time (one record's statement timing out…)
            count = _apply_one_by_one(readers, batch_size)
        applied += count
        if count < batch_size:
            return {"applied": applied, "more": False}
        if time.monotonic() >= deadline:
            return {"applied": applied, "more": True}


def _apply_one_by_one(readers: Mapping[str, Reader], count: int) -> int:
    """The next `count` pending records, each in a transaction of its own: the one the
    database aborts every time is marked FAILED, so it can't hold up the others."""
    pks = list(_pending().values_list("pk", flat=True)[:count])
    for pk in pks:
        try:
            _apply_batch(readers, 1, pk=pk)
        except OperationalError as error:
            logger.exception("provider callback %s: the database aborted applying it", pk)
            _pending().filter(pk=pk).update(
                outcome=CallbackOutcome.FAILED,
                detail=f"Applying it raised {type(error).__name__}: {error}"[:300],
            )
    return len(pks)


def callbacks_apply_again(records, *, scheduler: Scheduler) -> int:
    """Make FAILED records PENDING again (the admin's "apply again") and wake the job once
    that is committed; how many."""
    count = records.filter(outcome=CallbackOutcome.FAILED).update(
        outcome=CallbackOutcome.PENDING, detail="Applied again by an operator"
    )
    if count:
        _wake_after_commit(scheduler)
    return count


def callbacks_wake_stuck(*, scheduler: Scheduler, now: datetime) -> int:
    """Records PENDING for longer than PROVIDER_CALLBACK_STUCK_SECONDS while no callbacks job
    waits or runs: their wake-up was lost → a new job. Returns how many were waiting (0 when
    none, or when a job is on its way)."""
    overdue = now - timedelta(seconds=settings.PROVIDER_CALLBACK_STUCK_SECONDS)
    stuck = ProviderCallback.objects.filter(
        outcome=CallbackOutcome.PENDING, received_at__lt=overdue
    ).count()
    if not stuck:
        return 0
    running_since = now - timedelta(seconds=CALLBACK_JOB_ALIVE_SECONDS)
    if task_backend.job_waiting_by(CALLBACKS_TASK, now) or task_backend.job_running_since(
        CALLBACKS_TASK, running_since
    ):
        return 0
    scheduler.callbacks()
    logger.warning("%s provider callbacks waited without a job: one enqueued", stuck)
    return stuck
