"""The senders pages (Django test client): a customer sees its own senders per channel — the
address, the provider and the account's name, never its credentials — or the install's
default it sends from; another customer's sender is not found; nothing can be changed."""

import uuid

import pytest

from django.urls import reverse

from messaging.models import ProviderAccount
from messaging.providers.accounts import account_secrets
from tests.messaging.provider_factories import make_cloud_account, make_sender, make_twilio_account

HTMX = {"HTTP_HX_REQUEST": "true"}
LIST = reverse("messaging:sender_list")


def detail(sender) -> str:
    return reverse("messaging:sender_detail", args=[sender.pk])


@pytest.fixture
def twilio(db):
    return make_twilio_account("Twilio US main")


@pytest.fixture
def sms(account, twilio):
    return make_sender(account, twilio, "+14155550100", display_name="Support line")


@pytest.fixture
def whatsapp(account):
    return make_sender(account, make_cloud_account("Meta Acme WABA"), "+14155550199")


def test_the_list_shows_the_customers_senders_per_channel(dashboard_client, sms, whatsapp):
    page = dashboard_client.get(LIST).content.decode()
    sms_section = page[page.index('id="senders-sms"') : page.index('id="senders-whatsapp"')]
    whatsapp_section = page[page.index('id="senders-whatsapp"') :]
    assert "+14155550100" in sms_section and "Support line" in sms_section
    assert "Twilio (SMS, MMS)" in sms_section and "Twilio US main" in sms_section
    assert "+14155550199" in whatsapp_section and "Meta Acme WABA" in whatsapp_section
    assert 'id="default-sms"' not in page and 'id="default-whatsapp"' not in page


def test_the_pages_never_show_an_accounts_credentials(dashboard_client, sms, whatsapp):
    pages = dashboard_client.get(LIST).content.decode() + "".join(
        dashboard_client.get(detail(sender)).content.decode() for sender in (sms, whatsapp)
    )
    for account in ProviderAccount.objects.all():
        assert account.account_id not in pages
        for secret in account_secrets(account).values():
            assert secret not in pages
    assert whatsapp.provider_ref not in pages


def test_another_customers_senders_are_not_listed_and_not_found(
    dashboard_client, sms, other_account, twilio
):
    theirs = make_sender(other_account, twilio, "+12125550100")
    assert "+12125550100" not in dashboard_client.get(LIST).content.decode()
    assert dashboard_client.get(detail(theirs)).status_code == 404
    missing = reverse("messaging:sender_detail", args=[uuid.uuid4()])
    assert dashboard_client.get(missing).status_code == 404
    assert dashboard_client.get(detail(sms)).status_code == 200


def test_without_senders_of_its_own_the_customer_sees_the_install_default(
    dashboard_client, settings, db
):
    page = dashboard_client.get(LIST).content.decode()
    assert page.count("You have no active") == 2
    default_sms = page[page.index('id="default-sms"') :]
    assert settings.SMS_FROM_NUMBER in default_sms.split("</p>")[0]
    assert "Simulator" in default_sms.split("</p>")[0]
    assert settings.WHATSAPP_FROM_NUMBER in page


def test_a_channel_the_install_turned_off_says_so(dashboard_client, settings, sms):
    settings.WHATSAPP_PROVIDER = ""
    page = dashboard_client.get(LIST).content.decode()
    assert "WhatsApp is turned off on this install" in page
    assert 'id="default-sms"' not in page


def test_an_inactive_sender_is_shown_inactive_and_the_default_is_used(
    dashboard_client, account, twilio, settings
):
    off = make_sender(account, twilio, "+14155550100", is_active=False)
    page = dashboard_client.get(LIST).content.decode()
    row = page[page.index(f'id="sender-{off.pk}"') :].split("</tr>")[0]
    assert "inactive" in row
    assert 'id="default-sms"' in page and settings.SMS_FROM_NUMBER in page
    detail_page = dashboard_client.get(detail(off)).content.decode()
    assert "BUSINESS_029" in detail_page


def test_a_sender_of_an_inactive_account_is_inactive_too(dashboard_client, sms, twilio):
    ProviderAccount.objects.filter(pk=twilio.pk).update(is_active=False)
    page = dashboard_client.get(detail(sms)).content.decode()
    assert 'id="inactive-notice"' in page


def test_the_detail_shows_how_to_pin_the_sender(dashboard_client, sms):
    page = dashboard_client.get(detail(sms)).content.decode()
    assert '"channels": {"sms": [{"from": ["+14155550100"]}]}' in page
    assert "Twilio US main" in page and 'id="inactive-notice"' not in page


def test_an_htmx_channel_filter_answers_only_the_list(dashboard_client, sms, whatsapp):
    response = dashboard_client.get(LIST, {"channel": "whatsapp"}, **HTMX, HTTP_HX_TARGET="senders")
    assert response.text.lstrip().startswith('<div id="senders">')
    assert "+14155550199" in response.text and "+14155550100" not in response.text
    assert "HX-Request" in response["Vary"]


def test_the_pages_are_read_only_and_need_a_sign_in(dashboard_client, client, sms):
    assert dashboard_client.post(LIST).status_code == 405
    assert dashboard_client.post(detail(sms)).status_code == 405
    dashboard_client.logout()
    response = client.get(LIST)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_navigation_links_the_senders_page(dashboard_client, db):
    page = dashboard_client.get(reverse("home")).content.decode()
    assert f'href="{LIST}"' in page and ">Senders<" in page
