"""The contact pages (Django test client): list with search and filters, inline create,
number hints, contact page sections, delete, CSV import — success, another account, no
login, bad input."""

import pytest

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from contacts.models import ConsentEvent, Contact, ContactImport
from tests.contacts.factories import make_contact, make_contacts
from tests.messaging.factories import make_approved_template, number, send
from tests.tasks import run_queued_tasks

HTMX = {"HTTP_HX_REQUEST": "true"}


def url(name, *args):
    return reverse(f"contacts:{name}", args=args)


# ---- list and search


def test_the_list_shows_the_accounts_contacts_only(dashboard_client, account, other_account):
    make_contact(account, "+14155550100", metadata={"name": "Ana"})
    make_contact(other_account, "+14155550199")
    response = dashboard_client.get(url("contact_list"))
    assert response.status_code == 200
    assert "+1 415-555-0100" in response.text and "Ana" in response.text
    assert "0199" not in response.text


@pytest.mark.parametrize("search", ["+1415555", "415-555-01", "(415) 555 0100", "ana"])
def test_search_finds_a_number_in_any_format_or_by_metadata(dashboard_client, account, search):
    make_contact(account, "+14155550100", metadata={"name": "Ana"})
    make_contact(account, "+442071838750")
    response = dashboard_client.get(
        url("contact_list"), {"search": search}, **HTMX, HTTP_HX_TARGET="contacts"
    )
    assert response.text.lstrip().startswith('<div id="contacts"')
    assert "+1 415-555-0100" in response.text
    assert "+44 20 7183 8750" not in response.text


def test_the_channel_filter_keeps_sms_whatsapp_or_opted_out(dashboard_client, account):
    whatsapp = make_contact(account, "+14155550100")  # simulator: 00–49 have WhatsApp
    sms_only = make_contact(account, "+14155550160")
    opted_out = make_contact(account, "+14155550170", opt_out=True)
    assert whatsapp.whatsapp_available and not sms_only.whatsapp_available

    def shown(channel):
        text = dashboard_client.get(url("contact_list"), {"channel": channel}).text
        return {c for c in (whatsapp, sms_only, opted_out) if f'id="contact-{c.pk}"' in text}

    assert shown("whatsapp") == {whatsapp}
    assert shown("sms") == {whatsapp, sms_only, opted_out}
    assert shown("opted_out") == {opted_out}
    assert shown("") == {whatsapp, sms_only, opted_out}


def test_the_pager_keeps_the_search_in_its_links(
    dashboard_client, account, django_assert_max_num_queries
):
    make_contacts(account, 30)
    # session, user, customer, the page of contacts (+1 row), flash messages
    with django_assert_max_num_queries(5):
        response = dashboard_client.get(url("contact_list"), {"search": "+1201"})
    assert response.text.count('<tr id="contact-') == 25
    assert 'href="?search=%2B1201&amp;page=2"' in response.text
    second = dashboard_client.get(url("contact_list"), {"search": "+1201", "page": 2})
    assert second.text.count('<tr id="contact-') == 5


def test_empty_states_differ_for_no_contacts_and_no_match(dashboard_client, account):
    assert "No contacts yet" in dashboard_client.get(url("contact_list")).text
    make_contact(account)
    assert "No contact matches" in dashboard_client.get(url("contact_list"), {"search": "zzz"}).text


def test_pages_need_a_signed_in_user(client, account):
    contact = make_contact(account)
    for page in [url("contact_list"), url("contact_detail", contact.pk), url("contact_import")]:
        response = client.get(page)
        assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert client.post(url("contact_create"), {"phone_number": "+14155550100"}).status_code == 302
    assert not Contact.objects.filter(format_e164="+14155550100").exists()


# ---- inline create


def test_adding_a_contact_inline_clears_the_form_and_refreshes_the_list(dashboard_client, account):
    response = dashboard_client.post(
        url("contact_create"), {"phone_number": "(415) 555-0100"}, **HTMX
    )
    contact = Contact.objects.get(customer=account)
    assert contact.format_e164 == "+14155550100" and contact.source == "dashboard"
    assert "Added" in response.text and "+1 415-555-0100" in response.text
    assert "contactsChanged" in response["HX-Trigger"]
    assert 'value=""' in response.text  # a fresh form


def test_adding_a_number_twice_says_it_exists(dashboard_client, account):
    make_contact(account, "+14155550100")
    response = dashboard_client.post(
        url("contact_create"), {"phone_number": "+1 415 555 0100"}, **HTMX
    )
    assert "is already one of your contacts" in response.text
    assert Contact.objects.filter(customer=account).count() == 1


@pytest.mark.parametrize("number", ["", "12", "not a number", "+1 415 555"])
def test_an_invalid_number_shows_the_apis_message_next_to_the_field(
    dashboard_client, account, api_client, number
):
    api_error = api_client.post("/v3/contacts", {"phone_number": number}, format="json").json()[
        "error"
    ]
    response = dashboard_client.post(url("contact_create"), {"phone_number": number}, **HTMX)
    assert response.status_code == 200
    assert 'id="id_phone_number_error"' in response.text and 'aria-invalid="true"' in response.text
    assert api_error["message"] in response.text.replace("&#x27;", "'").replace("&quot;", '"')
    assert not Contact.objects.filter(customer=account).exists()


def test_without_htmx_a_valid_create_goes_to_the_contact(dashboard_client, account):
    response = dashboard_client.post(url("contact_create"), {"phone_number": "+14155550100"})
    contact = Contact.objects.get(customer=account)
    assert response.status_code == 302 and response["Location"] == url("contact_detail", contact.pk)


def test_the_number_hint_describes_a_typed_number_without_creating_it(dashboard_client, account):
    good = dashboard_client.get(url("contact_lookup"), {"phone_number": "(415) 555-0100"}, **HTMX)
    assert "✓ +1 415-555-0100" in good.text and "reachable on" in good.text
    bad = dashboard_client.get(url("contact_lookup"), {"phone_number": "12"}, **HTMX)
    assert 'class="error-text"' in bad.text
    assert not Contact.objects.filter(customer=account).exists()


# ---- contact page


def test_the_contact_page_shows_formats_channels_consent_and_metadata(
    dashboard_client, account, django_assert_max_num_queries
):
    contact = make_contact(account, "+14155550100", metadata={"plan": "pro"})
    with django_assert_max_num_queries(8):
        response = dashboard_client.get(url("contact_detail", contact.pk))
    assert response.status_code == 200
    for text in ["+14155550100", "+1 415-555-0100", "(415) 555-0100", "tel:+1-415-555-0100", "pro"]:
        assert text in response.text
    assert "Subscribed" in response.text and "No messages yet" in response.text


def test_the_contact_page_lists_the_contacts_recent_messages(
    dashboard_client, account, settings, django_assert_max_num_queries
):
    settings.SIMULATOR_DELAY_SCALE = 0
    make_approved_template(account)
    [older, *_others] = send(account, [number(60), number(61)])
    run_queued_tasks()
    [newer] = send(account, [number(60)])
    contact = older.contact
    # sign-in (4), the contact, consent events, message summary, recent messages
    with django_assert_max_num_queries(8):
        response = dashboard_client.get(url("contact_detail", contact.pk))
    recent = response.text.split('id="recent-messages"')[1].split("</ul>")[0]
    assert recent.index(f'href="/messages/{newer.pk}/"') < recent.index(f"/messages/{older.pk}/")
    assert ">Delivered<" in recent and ">Queued<" in recent
    assert recent.count("<li>") == 2  # not the other contact's
    assert f'href="/messages/?contact={contact.pk}"' in response.text
    assert f'href="/playground/?contact={contact.pk}"' in response.text  # send it another


def test_another_accounts_contact_is_not_found(dashboard_client, other_account):
    foreign = make_contact(other_account)
    assert dashboard_client.get(url("contact_detail", foreign.pk)).status_code == 404
    for action in [
        "contact_delete",
        "contact_opt_out",
        "contact_default_channel",
        "contact_refresh",
        "contact_metadata",
        "contact_name",
    ]:
        assert (
            dashboard_client.post(url(action, foreign.pk), {"opt_out": "true"}).status_code == 404
        )
    foreign.refresh_from_db()
    assert not foreign.opt_out and foreign.deleted_at is None
    dashboard_client.post(url("contact_name", foreign.pk), {"name": "Mallory"})
    foreign.refresh_from_db()
    assert foreign.name == ""


def test_opting_out_and_back_in_is_recorded_in_the_ledger(dashboard_client, account):
    contact = make_contact(account)
    response = dashboard_client.post(
        url("contact_opt_out", contact.pk), {"opt_out": "true"}, **HTMX
    )
    assert response.text.lstrip().startswith('<section class="card" id="consent"')
    assert "Opted out" in response.text
    dashboard_client.post(url("contact_opt_out", contact.pk), {"opt_out": "false"}, **HTMX)
    contact.refresh_from_db()
    assert not contact.opt_out
    assert [e.opt_out for e in ConsentEvent.objects.filter(contact=contact).order_by("id")] == [
        True,
        False,
    ]
    assert {e.source for e in ConsentEvent.objects.filter(contact=contact)} == {"dashboard"}


def test_choosing_the_default_channel(dashboard_client, account):
    contact = make_contact(account, "+14155550100")  # SMS and WhatsApp
    response = dashboard_client.post(
        url("contact_default_channel", contact.pk), {"default_channel": "sms"}, **HTMX
    )
    assert "Saved." in response.text
    contact.refresh_from_db()
    assert contact.default_channel == "sms" and contact.default_channel_is_custom


def test_a_channel_the_contact_lacks_is_a_field_error(dashboard_client, account):
    contact = make_contact(account, "+14155550160")  # SMS only
    response = dashboard_client.post(
        url("contact_default_channel", contact.pk), {"default_channel": "whatsapp"}, **HTMX
    )
    assert 'id="id_default_channel_error"' in response.text
    contact.refresh_from_db()
    assert contact.default_channel == "sms"


def test_editing_metadata_and_refusing_bad_json(dashboard_client, account):
    contact = make_contact(account)
    bad = dashboard_client.post(
        url("contact_metadata", contact.pk), {"metadata": "{name: Ana"}, **HTMX
    )
    assert 'id="id_metadata_error"' in bad.text and "not valid JSON" in bad.text
    not_object = dashboard_client.post(
        url("contact_metadata", contact.pk), {"metadata": "[1, 2]"}, **HTMX
    )
    assert "Metadata must be a JSON object." in not_object.text
    good = dashboard_client.post(
        url("contact_metadata", contact.pk), {"metadata": '{"name": "Ana"}'}, **HTMX
    )
    assert "Saved." in good.text
    contact.refresh_from_db()
    assert contact.metadata == {"name": "Ana"}


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ('{"score": NaN}', "NaN is not a JSON value"),
        ('{"score": -Infinity}', "-Infinity is not a JSON value"),
        ('{"a": ' * 100_000 + "1" + "}" * 100_000, "nested too deeply"),
    ],
)
def test_metadata_python_reads_but_json_does_not_is_refused(dashboard_client, account, text, said):
    contact = make_contact(account, metadata={"name": "Ana"})
    response = dashboard_client.post(
        url("contact_metadata", contact.pk), {"metadata": text}, **HTMX
    )
    assert response.status_code == 200
    assert 'id="id_metadata_error"' in response.text and said in response.text
    contact.refresh_from_db()
    assert contact.metadata == {"name": "Ana"}


def test_checking_channels_again(dashboard_client, account):
    contact = make_contact(account)
    response = dashboard_client.post(url("contact_refresh", contact.pk), **HTMX)
    assert "Checked just now." in response.text


# ---- delete


def test_deleting_from_the_list_removes_the_row(dashboard_client, account):
    contact = make_contact(account)
    response = dashboard_client.post(
        url("contact_delete", contact.pk), **HTMX, HTTP_HX_TARGET=f"contact-{contact.pk}"
    )
    assert response.status_code == 200
    # The row's swap gets nothing (the row goes); only the confirmation, out of band.
    assert response.content.decode().startswith('<div id="flash"')
    assert 'hx-swap-oob="true"' in response.content.decode()
    assert not Contact.objects.filter(pk=contact.pk).exists()
    assert Contact.all_objects.get(pk=contact.pk).deleted_at is not None


def test_deleting_from_the_contact_page_goes_back_to_the_list(dashboard_client, account):
    contact = make_contact(account)
    response = dashboard_client.post(url("contact_delete", contact.pk), **HTMX)
    assert response["HX-Redirect"] == url("contact_list")
    assert "Deleted the contact" in dashboard_client.get(url("contact_list")).text


@pytest.mark.parametrize(
    "name",
    [
        "contact_delete",
        "contact_opt_out",
        "contact_default_channel",
        "contact_refresh",
        "contact_metadata",
        "contact_create",
    ],
)
def test_actions_refuse_get(dashboard_client, account, name):
    contact = make_contact(account)
    target = url(name) if name == "contact_create" else url(name, contact.pk)
    assert dashboard_client.get(target).status_code == 405


# ---- CSV import


def csv_file(text: str, name: str = "people.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


def test_an_import_shows_its_progress_then_the_row_results(
    dashboard_client, account, django_capture_on_commit_callbacks
):
    text = "phone_number,name,opt_out\n+14155550100,Ana,\n(415) 555-0101,Ben,yes\nnope,Cy,\n"
    with django_capture_on_commit_callbacks(execute=True):
        response = dashboard_client.post(url("contact_import"), {"file": csv_file(text)})
    contact_import = ContactImport.objects.get(customer=account)
    assert response.status_code == 302 and response["Location"] == url(
        "contact_import_detail", contact_import.pk
    )
    running = dashboard_client.get(response["Location"], **HTMX, HTTP_HX_TARGET="import-progress")
    assert 'hx-trigger="every 1s"' in running.text and "0 of 3 rows" in running.text
    run_queued_tasks()
    done = dashboard_client.get(response["Location"], **HTMX, HTTP_HX_TARGET="import-progress")
    assert done["HX-Refresh"] == "true"
    page = dashboard_client.get(response["Location"])
    assert "every 1s" not in page.text
    assert page.text.count("badge row-created") == 2 and page.text.count("badge row-invalid") == 1
    invalid = dashboard_client.get(response["Location"], {"status": "invalid"})
    assert "nope" in invalid.text and "+14155550100" not in invalid.text
    assert Contact.objects.get(customer=account, format_e164="+14155550101").opt_out


def test_a_csv_without_a_number_column_is_a_field_error(dashboard_client, account):
    response = dashboard_client.post(url("contact_import"), {"file": csv_file("name\nAna\n")})
    assert response.status_code == 200 and 'id="id_file_error"' in response.text
    assert not ContactImport.objects.exists()


def test_a_file_that_is_not_utf8_is_refused(dashboard_client):
    upload = SimpleUploadedFile("x.csv", "phone_number\n+1415555\xe9\n".encode("latin-1"))
    response = dashboard_client.post(url("contact_import"), {"file": upload})
    assert "The CSV must be UTF-8 text." in response.text


def test_another_accounts_import_is_not_found(
    dashboard_client, other_account, django_capture_on_commit_callbacks
):
    from contacts.services import contact_import_create

    foreign = contact_import_create(
        other_account, source_format="csv", payload="phone_number\n+14155550100\n", total_rows=1
    )
    assert dashboard_client.get(url("contact_import_detail", foreign.pk)).status_code == 404


# ---- names


def test_a_contact_added_with_a_name_shows_it_and_search_finds_it(dashboard_client, account):
    response = dashboard_client.post(
        url("contact_create"), {"phone_number": "+14155550100", "name": "Ana Silva"}
    )
    assert response.status_code == 302
    contact = Contact.objects.get(customer=account)
    assert contact.name == "Ana Silva"
    make_contact(account, "+14155550101")
    found = dashboard_client.get(url("contact_list"), {"search": "silva"})
    assert "Ana Silva" in found.text
    assert "+1 415-555-0100" in found.text and "+1 415-555-0101" not in found.text


def test_the_contact_page_shows_and_edits_the_name(dashboard_client, account):
    contact = make_contact(account, "+14155550100")
    page = dashboard_client.get(url("contact_detail", contact.pk))
    assert 'id="name"' in page.text and "None yet." in page.text
    saved = dashboard_client.post(url("contact_name", contact.pk), {"name": " Zoë "}, **HTMX)
    assert saved.text.lstrip().startswith('<section class="card" id="name"')
    assert '<p id="contact-name">Zoë</p>' in saved.text and "Saved." in saved.text
    contact.refresh_from_db()
    assert contact.name == "Zoë"
    page = dashboard_client.get(url("contact_detail", contact.pk))
    assert "<h1>Zoë · " in page.text
    assert "Zoë" in dashboard_client.get(url("contact_list")).text
    too_long = dashboard_client.post(url("contact_name", contact.pk), {"name": "x" * 201}, **HTMX)
    assert "at most 200 characters" in too_long.text and 'aria-invalid="true"' in too_long.text
    cleared = dashboard_client.post(url("contact_name", contact.pk), {"name": ""}, **HTMX)
    assert "None yet." in cleared.text
    contact.refresh_from_db()
    assert contact.name == ""


def test_a_name_kept_in_metadata_still_shows(dashboard_client, account):
    contact = make_contact(account, "+14155550100", metadata={"name": "Old Ana"})
    assert "Old Ana" in dashboard_client.get(url("contact_list")).text
    page = dashboard_client.get(url("contact_detail", contact.pk))
    assert "its metadata says “Old Ana”" in page.text
