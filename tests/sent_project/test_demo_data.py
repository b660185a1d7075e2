"""`make run`'s demo account shows something: four named contacts marked demo, the three
templates, and three sandbox messages that the worker delivers with their status history; a
note on the home page says it is demo data. Idempotent, and a deleted demo contact stays
deleted (docs/dashboard.md#demo-data)."""

import pytest

from django.test import Client

from billing.models import Customer
from contacts.models import Contact, Source
from contacts.services import contact_delete
from messaging.models import Message
from sent_project.management.commands.bootstrap_demo import (
    ADMIN_LOGIN,
    DASHBOARD_LOGIN,
    bootstrap_demo,
    demo_password_hashes_in_background,
)
from templates_app.models import Template
from tests.tasks import run_queued_tasks

pytestmark = pytest.mark.usefixtures("instant_lifecycle")


@pytest.fixture
def demo(db, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    made = bootstrap_demo()
    run_queued_tasks(include_future=True)  # the worker `make run` starts
    return Customer.objects.get(pk=made["customer_id"])


def test_the_demo_account_has_contacts_templates_and_delivered_messages(demo):
    contacts = Contact.objects.filter(customer=demo)
    assert sorted(c.name for c in contacts) == [
        "Ana Lima",
        "Ben Okafor",
        "Chloé Martin",
        "Dev Patel",
    ]
    assert all(c.metadata["demo"] is True for c in contacts)
    assert Template.objects.filter(customer=demo, status="APPROVED").count() == 3
    messages = list(Message.objects.filter(customer=demo))
    assert len(messages) == 3 and all(m.sandbox for m in messages)
    assert {m.status for m in messages} <= {"DELIVERED", "READ"}
    for message in messages:
        steps = list(
            message.activities.filter(kind__in=("status", "receipt")).values_list(
                "status", flat=True
            )
        )
        assert "SENT" in steps and "DELIVERED" in steps, steps
    assert f"{demo.balance:.4f}" == "100.0000"  # sandbox: nothing charged


def test_running_it_again_duplicates_nothing_and_deleted_demo_data_stays_deleted(demo):
    bootstrap_demo()
    assert Contact.objects.filter(customer=demo).count() == 4
    assert Message.objects.filter(customer=demo).count() == 3
    assert Template.objects.filter(customer=demo).count() == 3
    for contact in Contact.objects.filter(customer=demo):  # as the dashboard's Delete does
        contact_delete(demo, contact_id=contact.pk, source=Source.DASHBOARD)
    bootstrap_demo()
    assert Contact.objects.filter(customer=demo).count() == 0


def test_the_dashboard_shows_the_demo_data_and_says_so(demo):
    client = Client()
    assert client.login(username=DASHBOARD_LOGIN[0], password=DASHBOARD_LOGIN[1])
    home = client.get("/").text
    assert 'id="demo-note"' in home and "Demo data." in home
    assert 'id="messages-today">3<' in home
    contacts = client.get("/contacts/").text
    assert "Ana Lima" in contacts and "+1 415-555-0160" in contacts
    messages = client.get("/messages/").text
    assert messages.count('<tr id="message-') == 3


def test_an_account_without_demo_contacts_has_no_note(dashboard_client, account):
    from tests.contacts.factories import make_contact

    make_contact(account, "+14155550100", metadata={"name": "Real Person"})
    assert 'id="demo-note"' not in dashboard_client.get("/").text


@pytest.mark.django_db
def test_with_the_hashes_made_beforehand_both_logins_work(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    # What `make run` does on a first run: the hashes are made beside `migrate`.
    bootstrap_demo(demo_password_hashes_in_background())

    dashboard, admin = Client(), Client()
    assert dashboard.login(username=DASHBOARD_LOGIN[0], password=DASHBOARD_LOGIN[1])
    assert admin.login(username=ADMIN_LOGIN[0], password=ADMIN_LOGIN[1])
    assert admin.get("/admin/").status_code == 200
    assert dashboard.get("/").status_code == 200
