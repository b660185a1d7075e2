"""The admin's Message page (docs/operations.md#admin): search by id or number, filters,
read-only, cancel and resend through the services; pages for the other service-written
records; plurals that read right."""

import re

import pytest

from django.apps import apps
from django.contrib import admin

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


# Words the admin must write in capitals (Django's capfirst would make "Api keys").
ACRONYMS = {"api": "API", "sms": "SMS", "totp": "TOTP", "otp": "OTP", "url": "URL", "csv": "CSV"}


def test_the_admin_index_reads_right(admin_client):
    """Every registered model's name on the admin index, as shown: no "Webhook deliverys"
    (a consonant before "ys"), no "Api keys", and each app's heading in words ("Otp_Static")."""
    html = admin_client.get("/admin/").content.decode()
    shown = re.findall(r'<th scope="row"[^>]*>\s*<a href="[^"]*">([^<]+)</a>', html)
    headings = re.findall(r"<caption>\s*<a[^>]*>([^<]+)</a>", html)
    plurals = {model._meta.verbose_name_plural for model in admin.site._registry}
    assert len(shown) == len(plurals) and "Webhook deliveries" in shown, shown
    wrong = [name for name in shown if re.search(r"[^aeiou]ys$", name)]
    wrong += [
        name
        for name in shown + headings
        for word in re.split(r"[\s_]+", name)
        if word.lower() in ACRONYMS and word != ACRONYMS[word.lower()]
    ]
    wrong += [heading for heading in headings if "_" in heading]
    assert wrong == [], wrong
    assert {"API keys", "Audit entries", "Ledger entries", "Webhook deliveries"} <= set(shown)
