"""The review lifecycle: submission, the simulated WhatsApp verdict (delay, banned words),
SMS-only approval, stale verdicts, operator actions, status history and events."""

from datetime import timedelta

import pytest

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from sent_project.errors import SentError
from sent_project.models import Event
from templates_app import lifecycle
from templates_app.models import Template
from templates_app.services import template_create, template_submit, template_update
from tests.tasks import queued_tasks, run_queued_tasks
from tests.templates_app.factories import definition, make_template, sms_only_definition

VERDICT_TASK = "templates_app.tasks.apply_template_verdict"


def history(template) -> list[tuple[str, str, str]]:
    return [(c.from_status, c.to_status, c.source) for c in template.status_changes.order_by("id")]


def events(template) -> list[str]:
    return list(
        Event.objects.filter(subject_id=template.pk)
        .order_by("sequence")
        .values_list("event", flat=True)
    )


def test_submitting_opens_a_whatsapp_review_that_approves_after_the_delay(account, settings):
    settings.SIMULATOR_DELAY_SCALE = 1
    before = timezone.now()
    template = template_create(
        account, definition=definition(), submit_for_review=True, name="order_update"
    )
    assert template.status == "PENDING" and template.is_published is False
    assert template.whatsapp_template_id.startswith("sim_")
    assert template.whatsapp_template_name == "order_update"
    job = queued_tasks(VERDICT_TASK).get()
    delay = settings.SIMULATOR_DELAYS["template_review"]
    assert (
        before + timedelta(seconds=delay)
        <= job.run_after
        <= timezone.now() + timedelta(seconds=delay)
    )
    assert run_queued_tasks() == 0  # not due yet
    assert run_queued_tasks(include_future=True) == 1
    template.refresh_from_db()
    assert (template.status, template.is_published) == ("APPROVED", True)
    assert history(template) == [
        ("", "DRAFT", "api"),
        ("DRAFT", "PENDING", "api"),
        ("PENDING", "APPROVED", "provider"),
    ]
    assert events(template) == ["templates.pending", "templates.approved"]


def test_the_delay_scales_and_zero_makes_the_review_instant(account, settings):
    settings.SIMULATOR_DELAY_SCALE = 3
    start = timezone.now()
    make_template(account, status="PENDING", name="slow")
    job = queued_tasks(VERDICT_TASK).get()
    assert job.run_after >= start + timedelta(
        seconds=3 * settings.SIMULATOR_DELAYS["template_review"]
    )
    settings.SIMULATOR_DELAY_SCALE = 0
    fast = make_template(account, status="PENDING", name="fast")
    assert run_queued_tasks() == 1
    fast.refresh_from_db()
    assert fast.status == "APPROVED"


def test_a_banned_word_gets_the_template_rejected_with_a_reason(account, settings):
    settings.SIMULATOR_DELAY_SCALE = 0
    template = template_create(
        account,
        definition=definition(
            "Hi {{0:name}}, your CASINO bonus {{1:order_id}} is waiting for you tonight."
        ),
        submit_for_review=True,
    )
    run_queued_tasks()
    template.refresh_from_db()
    assert template.status == "REJECTED" and template.is_published is False
    assert 'mentions "casino"' in template.rejection_reason
    event = Event.objects.get(subject_id=template.pk, event="templates.rejected")
    assert event.payload["reason"] == template.rejection_reason


def test_the_banned_words_come_from_settings_and_match_whole_words(account, settings):
    settings.SIMULATOR_DELAY_SCALE = 0
    settings.SIMULATOR_TEMPLATE_BANNED_WORDS = ["crypto"]
    ok = make_template(
        account,
        status="PENDING",
        name="ok",
        definition_=definition(
            "Hi {{0:name}}, our cryptography guide {{1:order_id}} is ready for you now."
        ),
    )
    bad = make_template(
        account,
        status="PENDING",
        name="bad",
        definition_=definition(
            "Hi {{0:name}}, buy crypto with code {{1:order_id}} before the end of today."
        ),
    )
    run_queued_tasks()
    ok.refresh_from_db()
    bad.refresh_from_db()
    assert (ok.status, bad.status) == ("APPROVED", "REJECTED")


def test_an_sms_only_template_is_approved_on_submission(account):
    template = template_create(account, definition=sms_only_definition(), submit_for_review=True)
    assert template.status == "APPROVED" and template.is_published is True
    assert not queued_tasks(VERDICT_TASK).exists()
    assert history(template)[-1] == ("DRAFT", "APPROVED", "system")
    assert template.whatsapp_template_id == ""


def test_without_a_whatsapp_provider_nothing_needs_review(account, settings):
    settings.WHATSAPP_PROVIDER = ""
    template = template_create(account, definition=definition(), submit_for_review=True)
    assert template.status == "APPROVED"


def test_an_unknown_whatsapp_provider_is_a_configuration_error(account, settings):
    settings.WHATSAPP_PROVIDER = "carrier-pigeon"
    with pytest.raises(ImproperlyConfigured):
        template_create(account, definition=definition(), submit_for_review=True)
    assert not Template.objects.exists()


def test_a_verdict_for_an_earlier_review_round_changes_nothing(account, settings):
    settings.SIMULATOR_DELAY_SCALE = 0
    template = make_template(account, status="PENDING")
    first = queued_tasks(VERDICT_TASK).get()
    lifecycle.template_approve(template)  # an operator decides first
    template_update(
        account,
        template,
        definition=definition("Hello {{0:name}}, order {{1:order_id}} left our warehouse today."),
    )  # → PENDING again
    template.refresh_from_db()
    assert template.status == "PENDING"
    stale = lifecycle.template_review_verdict(
        template.pk,
        review_id=first.args_kwargs["kwargs"]["review_id"],
        approved=False,
        reason="late",
    )
    assert stale == "stale"
    template.refresh_from_db()
    assert template.status == "PENDING"
    first.delete()
    run_queued_tasks()
    template.refresh_from_db()
    assert template.status == "APPROVED"


def test_a_verdict_for_a_deleted_template_is_dropped(account):
    assert (
        lifecycle.template_review_verdict(
            "00000000-0000-0000-0000-000000000000", review_id=1, approved=True
        )
        == "gone"
    )


def test_a_resubmission_while_pending_is_refused(account):
    template = make_template(account, status="PENDING")
    with pytest.raises(SentError) as raised:
        template_submit(account, template)
    assert raised.value.code == "CONFLICT_006"


@pytest.mark.parametrize(
    ("start", "action", "end"),
    [
        ("PENDING", "approve", "APPROVED"),
        ("REJECTED", "approve", "APPROVED"),
        ("PAUSED", "approve", "APPROVED"),
        ("DRAFT", "approve", "APPROVED"),
        ("PENDING", "reject", "REJECTED"),
        ("APPROVED", "reject", "REJECTED"),
        ("APPROVED", "pause", "PAUSED"),
        ("APPROVED", "archive", "ARCHIVED"),
        ("DRAFT", "archive", "ARCHIVED"),
    ],
)
def test_operator_actions_move_templates(account, start, action, end):
    template = make_template(account, status=start)
    kwargs = {"reason": "Misleading"} if action == "reject" else {}
    getattr(lifecycle, f"template_{action}")(template, **kwargs)
    template.refresh_from_db()
    assert template.status == end
    assert template.is_published is (end == "APPROVED")
    last = template.status_changes.latest()
    assert (last.from_status, last.to_status, last.source) == (start, end, "admin")
    assert events(template)[-1] == f"templates.{end.lower()}"


@pytest.mark.parametrize(
    ("start", "action"),
    [
        ("DRAFT", "pause"),
        ("PENDING", "pause"),
        ("ARCHIVED", "archive"),
        ("ARCHIVED", "approve"),
        ("DRAFT", "reject"),
        ("APPROVED", "approve"),
    ],
)
def test_operator_actions_refuse_moves_that_make_no_sense(account, start, action):
    template = make_template(account, status=start)
    kwargs = {"reason": "x"} if action == "reject" else {}
    with pytest.raises(SentError) as raised:
        getattr(lifecycle, f"template_{action}")(template, **kwargs)
    assert raised.value.code == "TEMPLATE_002" and raised.value.status == 409
    template.refresh_from_db()
    assert template.status == start


def test_a_rejection_needs_a_reason(account):
    template = make_template(account, status="PENDING")
    with pytest.raises(SentError) as raised:
        lifecycle.template_reject(template, reason="  ")
    assert raised.value.details == {"reason": ["Say why the template is rejected."]}


def test_each_change_emits_the_contract_payload_numbered_per_template(account):
    template = make_template(account, status="APPROVED", name="order_update", language="en_GB")
    lifecycle.template_pause(template)
    lifecycle.template_reject(template, reason="Quality rating too low")
    rows = list(Event.objects.filter(subject_id=template.pk).order_by("sequence"))
    assert [(e.field, e.event, e.sequence) for e in rows] == [
        ("templates", "templates.approved", 1),
        ("templates", "templates.paused", 2),
        ("templates", "templates.rejected", 3),
    ]
    assert rows[-1].customer == account
    assert rows[-1].payload == {
        "status": "REJECTED",
        "whatsapp_template_id": "",
        "template_id": str(template.pk),
        "template_name": "order_update",
        "category": "UTILITY",
        "language": "en_GB",
        "account_id": str(account.pk),
        "reason": "Quality rating too low",
    }
    assert "reason" not in rows[0].payload


def test_a_change_rolled_back_leaves_no_history_event_or_review(account):
    template = make_template(account)
    with pytest.raises(RuntimeError), transaction.atomic():
        template_submit(account, template)
        raise RuntimeError("boom")
    template.refresh_from_db()
    assert template.status == "DRAFT"
    assert history(template) == [("", "DRAFT", "api")]
    assert not Event.objects.exists() and not queued_tasks(VERDICT_TASK).exists()
