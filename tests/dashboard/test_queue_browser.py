"""A send's progress bar in a real browser moves while a worker thread drains the send (12 messages, 4 per dispatch job), and
stops polling once it is done; the Queue page lists the send (docs/dashboard.md#queue)."""

import threading

import pytest

from django.db import connection

from messaging.queue import batch_progress
from tests.browser import screenshot
from tests.messaging.factories import make_approved_template, number, send
from tests.tasks import run_queued_tasks

pytestmark = pytest.mark.browser


def _drain_step_by_step(customer, batch_id, observed: threading.Event, stop: threading.Event):
    """The worker: runs jobs one at a time until the send has moved on, then waits until the
    browser has seen it before the next step."""
    try:
        finished = 0
        while not stop.is_set():
            if not run_queued_tasks(max_jobs=1):
                return
            now = batch_progress(customer, batch_id=batch_id).finished
            if now > finished:
                finished = now
                observed.clear()
                observed.wait(timeout=15)
    finally:
        connection.close()


def test_the_progress_bar_moves_while_the_send_drains(signed_in_page, live_account, settings):
    settings.SIMULATOR_DELAY_SCALE = 0
    settings.MESSAGE_DISPATCH_BATCH_SIZE = 4
    settings.MESSAGE_DISPATCH_JOB_SECONDS = 0  # one claim per job, then its successor
    make_approved_template(live_account)
    messages = send(live_account, [number(n, series=4) for n in range(10, 22)], channels=["sms"])
    batch_id = messages[0].batch_id
    page = signed_in_page
    page.goto("/queue/")
    page.locator(f"#send-{batch_id}").wait_for()
    assert page.locator("#queue-waiting").inner_text() == "12"
    screenshot(page, "queue")
    page.locator(f"#send-{batch_id}").get_by_role("link").click()
    bar = page.locator("#send-bar")
    assert bar.get_attribute("value") == "0"

    observed, stop = threading.Event(), threading.Event()
    worker = threading.Thread(
        target=_drain_step_by_step, args=(live_account, batch_id, observed, stop), daemon=True
    )
    worker.start()
    seen = [0]
    try:
        while seen[-1] < 12:
            # The next value the bar shows (htmx swaps the card every 2 s).
            page.wait_for_function(
                "last => Number(document.querySelector('#send-bar').value) > last", arg=seen[-1]
            )
            seen.append(int(bar.get_attribute("value")))
            observed.set()
    finally:
        stop.set()
        observed.set()
        worker.join(timeout=15)
    assert len(seen) >= 3 and seen == sorted(set(seen))  # it moved, forward, in steps
    assert page.locator("#send-percent").inner_text() == "100%"
    assert page.locator("#send-state").inner_text() == "done"
    # Done: the card no longer polls.
    assert page.locator("#send-progress").get_attribute("hx-trigger") is None
    screenshot(page, "send-progress")
