"""Background jobs of the contacts app (thin: load, call, return an outcome)."""

from django.tasks import task

from contacts.imports import contact_import_process
from sent_project import lanes


@task(queue_name=lanes.BULK)
def contact_import_run(*, import_id: str) -> dict:
    """Run (or resume) a bulk import."""
    return contact_import_process(import_id=import_id)
