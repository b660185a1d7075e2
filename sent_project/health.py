"""Readiness checks (docs/operations.md#health): /readyz and `manage.py doctor` run the
functions HEALTH_CHECKS names, each app checking its own part. A check returns a list of
`Check` (one per thing it looks at); a check that raises counts as failed with its error."""

from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils.module_loading import import_string


@dataclass
class Check:
    name: str
    ok: bool
    detail: str = ""
    data: dict = field(default_factory=dict)

    def as_json(self) -> dict:
        return {"state": "ok" if self.ok else "failing", "detail": self.detail, **self.data}


def check_database() -> list[Check]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return [Check("database", True, f"{connection.vendor} answers")]


def check_migrations() -> list[Check]:
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        names = [f"{migration.app_label}.{migration.name}" for migration, _ in plan]
        return [
            Check(
                "migrations",
                False,
                f"{len(names)} not applied (run manage.py migrate)",
                {"unapplied": names[:20]},
            )
        ]
    return [Check("migrations", True, "all applied")]


def readiness() -> list[Check]:
    """Every check of HEALTH_CHECKS; the database check first (nothing else runs without it)."""
    results: list[Check] = []
    for path in settings.HEALTH_CHECKS:
        name = path.rsplit(".", 1)[1].removeprefix("check_")
        try:
            results.extend(import_string(path)())
        except Exception as error:  # the check itself failed: that is its answer
            results.append(Check(name, False, f"{type(error).__name__}: {error}"))
            if name == "database":
                break
    return results


def readiness_report() -> tuple[bool, dict]:
    checks = readiness()
    ready = all(check.ok for check in checks)
    return ready, {
        "status": "ok" if ready else "failing",
        "failing": [check.name for check in checks if not check.ok],
        "checks": {check.name: check.as_json() for check in checks},
    }
