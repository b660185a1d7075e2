"""The contacts app's pruner (docs/operations.md#retention): the per-row results of finished
imports. The import itself (its counts, status and errors) stays."""

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef

from contacts.models import ContactImport, ContactImportRow
from sent_project.retention import cutoff_days


def prune_import_rows(*, now: datetime, batch_size: int) -> int:
    """Row results of imports that finished more than RETENTION_IMPORT_ROWS_DAYS ago, by
    ranges of the primary key (import, row number): `batch_size` rows per transaction."""
    cutoff = cutoff_days(settings.RETENTION_IMPORT_ROWS_DAYS, now)
    if cutoff is None:
        return 0
    # Only imports that still have rows: those pruned by an earlier run cost nothing.
    finished = ContactImport.objects.filter(
        Exists(ContactImportRow.objects.filter(contact_import_id=OuterRef("pk"))),
        finished_at__lt=cutoff,
        status__in=[ContactImport.Status.COMPLETED, ContactImport.Status.FAILED],
    )
    deleted = 0
    for import_id in finished.order_by("finished_at").values_list("pk", flat=True).iterator():
        rows = ContactImportRow.objects.filter(contact_import_id=import_id)
        while True:
            first = rows.order_by("row_number").values_list("row_number", flat=True).first()
            if first is None:
                break
            with transaction.atomic():
                count, _ = rows.filter(
                    row_number__gte=first, row_number__lt=first + batch_size
                ).delete()
            deleted += count
    return deleted
