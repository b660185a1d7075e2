"""The lanes of background work: one django.tasks queue per kind of work, each served by its
own `db_worker` processes, so a flood in one (webhook retries to a slow endpoint, a large
import) cannot delay another (a customer's first message). docs/architecture.md#lanes says how
work is split and docs/operations.md#sizing-the-workers how many workers each lane wants.

Plain constants: settings.py reads them too.
"""

DISPATCH = "dispatch"  # handing messages to providers
RECEIPTS = "receipts"  # the simulator's scheduled status callbacks
WEBHOOKS = "webhooks"  # fan-out of events and delivery to customers' endpoints
BULK = "bulk"  # long batch work: contact imports, prunes, template submissions
DEFAULT = "default"  # periodic bookkeeping: the reconciler, sweeps

ALL = (DISPATCH, RECEIPTS, WEBHOOKS, BULK, DEFAULT)


def worker_queues(*, dispatch_workers: int = 1) -> list[str]:
    """The `db_worker --queue-name` of each worker process a small install runs: the dispatch
    lane's workers, then one each for receipts and webhooks, and one shared by the bulk and
    default lanes (both low-volume). `manage.py serve` and the deploy files start this set."""
    return [DISPATCH] * dispatch_workers + [RECEIPTS, WEBHOOKS, f"{BULK},{DEFAULT}"]
