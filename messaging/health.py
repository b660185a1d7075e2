"""The messaging app's readiness checks (docs/operations.md#health): workers seen per lane,
the oldest due job per lane, and the reconciler's last run."""

from django.conf import settings
from django.utils import timezone

from messaging import task_backend
from messaging.periodic import heartbeat_job, periodic_last_runs
from messaging.reconciler import RECONCILE_JOB
from sent_project.health import Check


def _age(moment) -> float | None:
    return None if moment is None else round((timezone.now() - moment).total_seconds(), 1)


def check_workers() -> list[Check]:
    """A lane's workers were seen when its heartbeat job ran within HEALTH_WORKER_SEEN_SECONDS,
    or one of them is running a job right now (a long import holds the bulk lane's worker)."""
    if not task_backend.uses_database_backend():
        return [Check("workers", True, "not the database task backend: not checked")]
    limit = settings.HEALTH_WORKER_SEEN_SECONDS
    lanes = settings.HEALTH_LANES
    beats = periodic_last_runs([heartbeat_job(lane) for lane in lanes])
    running = task_backend.lanes_running()
    checks = []
    for lane in lanes:
        age = _age(beats[heartbeat_job(lane)])
        if lane in running:
            checks.append(
                Check(f"worker:{lane}", True, "a worker is running a job", {"seen_seconds_ago": 0})
            )
        elif age is not None and age <= limit:
            checks.append(
                Check(f"worker:{lane}", True, f"seen {age:g} s ago", {"seen_seconds_ago": age})
            )
        else:
            seen = "never seen" if age is None else f"last seen {age:g} s ago"
            checks.append(
                Check(
                    f"worker:{lane}",
                    False,
                    f"no worker of lane {lane} seen within {limit:g} s ({seen})",
                    {"seen_seconds_ago": age},
                )
            )
    return checks


def check_task_queue() -> list[Check]:
    """The oldest due job of each lane waited less than HEALTH_OLDEST_TASK_SECONDS."""
    limit = settings.HEALTH_OLDEST_TASK_SECONDS
    stats = task_backend.lane_queue_stats()
    checks = []
    for lane in settings.HEALTH_LANES:
        depth, oldest = stats.get(lane, (0, None))
        ok = oldest is None or oldest <= limit
        detail = (
            "nothing due"
            if oldest is None
            else f"{depth} due, the oldest waiting {oldest:g} s"
            + ("" if ok else f" (over {limit:g} s)")
        )
        checks.append(
            Check(f"queue:{lane}", ok, detail, {"depth": depth, "oldest_seconds": oldest})
        )
    return checks


def check_reconciler() -> list[Check]:
    last = periodic_last_runs([RECONCILE_JOB])[RECONCILE_JOB]
    age = _age(last)
    limit = settings.HEALTH_RECONCILER_SECONDS
    if age is None:
        return [Check("reconciler", False, "never ran", {"last_run_seconds_ago": None})]
    if age > limit:
        return [
            Check(
                "reconciler",
                False,
                f"last ran {age:g} s ago (over {limit:g} s)",
                {"last_run_seconds_ago": age},
            )
        ]
    return [Check("reconciler", True, f"ran {age:g} s ago", {"last_run_seconds_ago": age})]
