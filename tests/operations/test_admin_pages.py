"""The admin's Message page (docs/operations.md#admin): search by id or number, filters,
read-only, cancel and resend through the services; pages for the other service-written
records; plurals that read right."""

import pytest

from django.apps import apps

from billing.models import LedgerEntry
from messaging.models import Message
from tests.messaging.factories import make_approved_template, number, send
from tests.tasks import run_queued_tasks

PAGE = "/admin/messaging/message/"
pytestmark = pytest.mark.django_db


@pytest.fixture
def messages_(account, instant_lifecycle):
    make_approved_template(account)
    queued = send(account, number(60, series=1))[0]
    failed = send(account, number(92, series=2))[0]  # the simulator fails WhatsApp 90–94
    run_queued_tasks(include_future=True)
    queued_again = send(account, number(60, series=3))[0]  # left QUEUED
    return {"delivered": queued, "failed": failed, "queued": queued_again}


def test_search_by_id_and_number_and_filter(admin_client, messages_):
    delivered = messages_["delivered"]
    page = admin_client.get(PAGE, {"q": str(delivered.pk)}).content.decode()
    assert str(delivered.pk) in page and str(messages_["failed"].pk) not in page
    page = admin_client.get(PAGE, {"q": messages_["failed"].phone}).content.decode()
    assert str(messages_["failed"].pk) in page and str(delivered.pk) not in page
    page = admin_client.get(PAGE, {"status__exact": "QUEUED"}).content.decode()
    assert str(messages_["queued"].pk) in page and str(delivered.pk) not in page
    page = admin_client.get(PAGE, {"channel__exact": "whatsapp"})
    assert page.status_code == 200


def test_the_page_is_read_only(admin_client, messages_):
    message = messages_["delivered"]
    page = admin_client.get(f"{PAGE}{message.pk}/change/")
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert admin_client.post(f"{PAGE}{message.pk}/change/", {"status": "FAILED"}).status_code == 403
    assert admin_client.get(f"{PAGE}add/").status_code == 403
    assert admin_client.post(f"{PAGE}{message.pk}/delete/", {"post": "yes"}).status_code == 403


def test_cancel_and_resend_go_through_the_services(admin_client, account, messages_):
    queued, failed, delivered = messages_["queued"], messages_["failed"], messages_["delivered"]
    refunds = LedgerEntry.objects.filter(customer=account).count()
    admin_client.post(
        PAGE, {"action": "cancel", "_selected_action": [str(queued.pk), str(delivered.pk)]}
    )
    queued.refresh_from_db()
    delivered.refresh_from_db()
    assert queued.status == "CANCELLED"
    assert delivered.status in ("DELIVERED", "READ")  # refused: only QUEUED ones can
    assert LedgerEntry.objects.filter(customer=account).count() == refunds + 1

    before = Message.objects.count()
    response = admin_client.post(
        PAGE, {"action": "resend", "_selected_action": [str(failed.pk)]}, follow=True
    )
    assert "Resent 1 message" in response.content.decode()
    assert Message.objects.count() == before + 1
    resent = Message.objects.exclude(pk=failed.pk).filter(phone=failed.phone).get()
    assert resent.status == "QUEUED"


def test_the_other_service_written_records_have_pages(admin_client, messages_):
    for path in (
        "/admin/messaging/conversation/",
        "/admin/messaging/simulatorsend/",
        "/admin/messaging/periodicjob/",
        "/admin/sent_project/idempotencyrecord/",
        "/admin/messaging/webhookdelivery/",
    ):
        assert admin_client.get(path).status_code == 200, path
    assert "Webhook deliveries" in admin_client.get("/admin/").content.decode()


def test_plurals_read_right():
    wrong = [
        model._meta.label
        for model in apps.get_models()
        if model._meta.verbose_name_plural.endswith(("ys", "ss", "chs"))
        and not model._meta.verbose_name_plural.endswith(("ays", "eys"))
    ]
    assert wrong == []
