"""The Queue page (docs/dashboard.md#queue): the same numbers as GET /v3/messages/queue,
refreshed by htmx, the recent sends with their progress, and one send's page whose progress
bar follows it until none of its messages waits any more."""

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from billing.dashboard.access import customer_required
from messaging.queue import batch_progress, queue_snapshot, recent_batches

QUEUE = "messaging/queue.html"
SEND = "messaging/send_progress.html"
RECENT_SENDS = 10


@customer_required
@require_GET
def queue(request) -> HttpResponse:
    snapshot = queue_snapshot(request.customer)
    sends = recent_batches(request.customer, limit=RECENT_SENDS)
    totals = snapshot.totals
    context = {
        "snapshot": snapshot,
        "queue": snapshot.as_dict(),
        "sends": sends,
        # Refresh quickly while something moves, slowly when all is quiet.
        "busy": totals.waiting > 0
        or totals.sent_last_window > 0
        or any(not send.done for send in sends),
    }
    if request.htmx.target == "queue-live":
        return render(request, f"{QUEUE}#queue-live", context)
    return render(request, QUEUE, context)


@customer_required
@require_GET
def send_progress(request, batch_id) -> HttpResponse:
    progress = batch_progress(request.customer, batch_id=batch_id)
    context = {"send": progress}
    if request.htmx.target == "send-progress":
        return render(request, f"{SEND}#send-progress", context)
    return render(request, SEND, context)
