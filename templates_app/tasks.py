"""Background jobs of the templates app (thin: load, call, report)."""

from django.tasks import task

from sent_project import lanes
from templates_app.lifecycle import template_review_verdict


@task(queue_name=lanes.BULK)
def apply_template_verdict(
    template_id: str, review_id: int, approved: bool, reason: str = ""
) -> str:
    """A reviewer's verdict arriving (the simulator schedules these; a real provider's
    callback would apply the same way)."""
    return template_review_verdict(
        template_id, review_id=review_id, approved=approved, reason=reason
    )
