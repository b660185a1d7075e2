"""The operator's admin for providers (docs/providers/README.md): accounts whose secrets are
write-only (never shown back in full, not even in the history), senders assigned to
customers and checked for their channel, and the read-only log of provider callbacks."""

import re

import pytest

from django.contrib.admin.models import LogEntry
from django.utils import timezone

from messaging.models import CallbackOutcome, ProviderAccount, ProviderCallback, Sender
from messaging.providers.accounts import account_secrets
from tests.messaging.provider_factories import (
    ACCESS_TOKEN,
    APP_SECRET,
    AUTH_TOKEN,
    make_cloud_account,
    make_sender,
    make_twilio_account,
)

ACCOUNTS = "/admin/messaging/provideraccount/"
SENDERS = "/admin/messaging/sender/"
CALLBACKS = "/admin/messaging/providercallback/"
SID = "AC" + "a" * 32
NEW_TOKEN = "rotated-auth-token-fedcba9876543210"


def field_errors(response, field: str) -> str:
    """The error list the admin renders for `field` ("" when none)."""
    form = response.context["adminform"].form
    return " ".join(form.errors.get(field, []))


def account_form(**fields) -> dict:
    return {"name": "Twilio US", "kind": "twilio", "account_id": SID, **fields}


def change_form(account, **fields) -> dict:
    return {"name": account.name, "account_id": account.account_id, "is_active": "on", **fields}


# ---- provider accounts: creating


def test_an_account_added_in_the_admin_stores_its_secret_encrypted(admin_client, db):
    response = admin_client.post(f"{ACCOUNTS}add/", account_form(auth_token=AUTH_TOKEN))
    assert response.status_code == 302, response.context and response.context["errors"]
    account = ProviderAccount.objects.get(account_id=SID)
    assert (account.kind, account.name) == ("twilio", "Twilio US")
    assert account_secrets(account) == {"auth_token": AUTH_TOKEN}
    assert AUTH_TOKEN not in account.secrets_encrypted
    assert account.secrets_rotated_at is not None


def test_a_twilio_account_may_send_with_an_api_key_and_keeps_its_auth_token(admin_client, db):
    # Twilio signs callbacks with the auth token (docs/providers/twilio.md#api-keys).
    secrets = {
        "auth_token": AUTH_TOKEN,
        "api_key_sid": "SK" + "b" * 32,
        "api_key_secret": "api-key-secret-0123456789",
    }
    response = admin_client.post(f"{ACCOUNTS}add/", account_form(**secrets))
    assert response.status_code == 302
    assert account_secrets(ProviderAccount.objects.get()) == secrets


@pytest.mark.parametrize(
    "secrets",
    [
        {},
        {"api_key_sid": "SK" + "b" * 32, "api_key_secret": "api-key-secret-0123456789"},
        {"api_key_secret": "only-the-secret"},
    ],
)
def test_a_twilio_account_without_its_auth_token_is_refused_on_the_field(admin_client, db, secrets):
    response = admin_client.post(f"{ACCOUNTS}add/", account_form(**secrets))
    assert response.status_code == 200
    assert "needs its auth token" in field_errors(response, "auth_token")
    assert not ProviderAccount.objects.exists()


def test_an_api_key_sid_needs_its_secret(admin_client, db):
    response = admin_client.post(
        f"{ACCOUNTS}add/", account_form(auth_token=AUTH_TOKEN, api_key_sid="SK" + "b" * 32)
    )
    assert "together" in field_errors(response, "api_key_secret")
    assert not ProviderAccount.objects.exists()


def test_a_cloud_api_account_needs_an_access_token_and_the_app_secret(admin_client, db):
    response = admin_client.post(
        f"{ACCOUNTS}add/", account_form(kind="cloud_api", account_id="102290129340398")
    )
    assert response.status_code == 200
    assert "needs an access token" in field_errors(response, "access_token")
    assert "app secret" in field_errors(response, "app_secret")
    response = admin_client.post(
        f"{ACCOUNTS}add/",
        account_form(
            kind="cloud_api",
            account_id="102290129340398",
            access_token=ACCESS_TOKEN,
            app_secret=APP_SECRET,
        ),
    )
    assert response.status_code == 302
    assert set(account_secrets(ProviderAccount.objects.get())) == {"access_token", "app_secret"}


def test_a_secret_of_the_other_kind_of_account_is_refused(admin_client, db):
    response = admin_client.post(
        f"{ACCOUNTS}add/", account_form(auth_token=AUTH_TOKEN, app_secret=APP_SECRET)
    )
    assert "Not a secret of a Twilio (SMS, MMS) account" in field_errors(response, "app_secret")
    assert not ProviderAccount.objects.exists()


def test_an_account_without_its_identifier_or_twice_is_refused(admin_client, db):
    response = admin_client.post(f"{ACCOUNTS}add/", account_form(account_id="", auth_token="t"))
    assert field_errors(response, "account_id")
    make_twilio_account(account_id=SID)
    response = admin_client.post(f"{ACCOUNTS}add/", account_form(auth_token=AUTH_TOKEN))
    assert response.status_code == 200
    assert ProviderAccount.objects.count() == 1


# ---- provider accounts: never shown back


def test_the_change_form_and_the_list_show_secrets_only_masked(admin_client, db):
    account = make_twilio_account(
        api_key_sid="SK" + "c" * 32, api_key_secret="api-key-secret-0123456789"
    )
    page = admin_client.get(f"{ACCOUNTS}{account.pk}/change/").content.decode()
    listing = admin_client.get(ACCOUNTS).content.decode()
    for html in (page, listing):
        for secret in account_secrets(account).values():
            assert secret not in html
        assert "••••cdef" in html  # the auth token's last four
    # Write-only inputs: a password field that never carries a value.
    inputs = re.findall(r"<input[^>]*name=\"auth_token\"[^>]*>", page)
    assert len(inputs) == 1 and 'type="password"' in inputs[0] and "value=" not in inputs[0]
    # The kind is fixed once created; only its own kind's secrets are offered.
    assert 'name="kind"' not in page and 'name="access_token"' not in page


def test_saving_with_the_secret_fields_blank_keeps_every_secret(admin_client, db):
    account = make_twilio_account()
    rotated_at = account.secrets_rotated_at
    response = admin_client.post(
        f"{ACCOUNTS}{account.pk}/change/", change_form(account, name="Twilio EU")
    )
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.name == "Twilio EU"
    assert account_secrets(account) == {"auth_token": AUTH_TOKEN}
    assert account.secrets_rotated_at == rotated_at


def test_entering_a_new_value_rotates_the_secret_and_the_history_never_holds_it(admin_client, db):
    account = make_twilio_account()
    rotated_at = account.secrets_rotated_at
    response = admin_client.post(
        f"{ACCOUNTS}{account.pk}/change/", change_form(account, auth_token=NEW_TOKEN)
    )
    assert response.status_code == 302
    account.refresh_from_db()
    assert account_secrets(account) == {"auth_token": NEW_TOKEN}
    assert account.secrets_rotated_at > rotated_at
    [entry] = LogEntry.objects.filter(object_id=str(account.pk))
    assert "Auth token" in entry.get_change_message()
    assert NEW_TOKEN not in entry.change_message and AUTH_TOKEN not in entry.change_message
    history = admin_client.get(f"{ACCOUNTS}{account.pk}/history/").content.decode()
    assert "Auth token" in history
    assert NEW_TOKEN not in history and AUTH_TOKEN not in history


def test_a_secret_can_be_removed_but_not_the_auth_token(admin_client, db):
    account = make_twilio_account(
        api_key_sid="SK" + "c" * 32, api_key_secret="api-key-secret-0123456789"
    )
    response = admin_client.post(
        f"{ACCOUNTS}{account.pk}/change/",
        change_form(account, api_key_sid_clear="on", api_key_secret_clear="on"),
    )
    assert response.status_code == 302
    account.refresh_from_db()
    assert set(account_secrets(account)) == {"auth_token"}
    response = admin_client.post(
        f"{ACCOUNTS}{account.pk}/change/", change_form(account, auth_token_clear="on")
    )
    assert "needs its auth token" in field_errors(response, "auth_token")
    account.refresh_from_db()
    assert set(account_secrets(account)) == {"auth_token"}


def test_a_new_value_and_remove_together_is_refused(admin_client, db):
    account = make_twilio_account()
    response = admin_client.post(
        f"{ACCOUNTS}{account.pk}/change/",
        change_form(account, auth_token=NEW_TOKEN, auth_token_clear="on"),
    )
    assert "not both" in field_errors(response, "auth_token")
    account.refresh_from_db()
    assert account_secrets(account) == {"auth_token": AUTH_TOKEN}


def test_secrets_stay_readable_through_a_secret_key_rotation(admin_client, settings, db):
    account = make_twilio_account()
    old_key = settings.SECRET_KEY
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "a-new-secret-key-" + "x" * 40, [old_key]
    assert account_secrets(account) == {"auth_token": AUTH_TOKEN}
    admin_client.post(f"{ACCOUNTS}{account.pk}/change/", change_form(account, auth_token=NEW_TOKEN))
    settings.SECRET_KEY_FALLBACKS = []  # a rotated secret is under the new key alone
    account.refresh_from_db()
    assert account_secrets(account) == {"auth_token": NEW_TOKEN}


def test_secrets_under_a_forgotten_key_say_so_instead_of_breaking_the_list(
    admin_client, admin_user, settings, db
):
    account = make_twilio_account()
    settings.SECRET_KEY = "a-new-secret-key-" + "x" * 40
    admin_client.force_login(admin_user)  # the old session was signed with the old key
    with pytest.raises(ValueError, match="Twilio main.*SECRET_KEY_FALLBACKS"):
        account_secrets(account)
    listing = admin_client.get(ACCOUNTS)
    assert listing.status_code == 200
    assert "can&#x27;t be decrypted" in listing.content.decode()
    # The way back: enter the secrets again (saving without them says why it can't).
    page = admin_client.post(f"{ACCOUNTS}{account.pk}/change/", change_form(account))
    assert "Enter the account&#x27;s secrets again" in page.content.decode()
    admin_client.post(f"{ACCOUNTS}{account.pk}/change/", change_form(account, auth_token=NEW_TOKEN))
    account.refresh_from_db()
    assert account_secrets(account) == {"auth_token": NEW_TOKEN}


def test_the_form_offers_every_secret_an_account_kind_holds():
    from messaging.admin import ProviderAccountForm
    from messaging.providers.accounts import SECRET_NAMES

    for names in SECRET_NAMES.values():
        for name in names:
            assert {name, f"{name}_clear"} <= set(ProviderAccountForm.base_fields)


# ---- senders


@pytest.fixture
def twilio(db):
    return make_twilio_account()


@pytest.fixture
def meta(db):
    return make_cloud_account()


def sender_form(customer, account, **fields) -> dict:
    return {
        "customer": str(customer.pk),
        "account": str(account.pk),
        "channel": "sms",
        "address": "+14155550100",
        "provider_ref": "",
        "display_name": "",
        "is_active": "on",
        **fields,
    }


@pytest.mark.parametrize(
    "fields",
    [
        {"address": "+14155550100"},
        {"address": "ACME"},
        {"address": "Acme Shop 1"},  # 11 characters, spaces allowed
        {"address": "", "provider_ref": "MG" + "0123456789abcdef" * 2},
        {"address": "+14155550100", "provider_ref": "MG" + "0123456789ABCDEF" * 2},
    ],
)
def test_an_sms_sender_is_a_number_an_alphanumeric_id_or_a_messaging_service(
    admin_client, account, twilio, fields
):
    response = admin_client.post(f"{SENDERS}add/", sender_form(account, twilio, **fields))
    assert response.status_code == 302, response.context["adminform"].form.errors
    sender = Sender.objects.get()
    assert (sender.customer, sender.account, sender.address) == (account, twilio, fields["address"])


@pytest.mark.parametrize(
    "fields,field,says",
    [
        ({"address": "4155550100"}, "address", "E.164"),
        ({"address": "+0155550100"}, "address", "E.164"),
        ({"address": "ACME SHOP 123"}, "address", "1 to 11"),
        ({"address": "12345"}, "address", "at least one letter"),
        ({"address": "ACME!"}, "address", "alphanumeric"),
        ({"address": ""}, "address", "Messaging Service SID"),
        ({"address": "", "provider_ref": "MG123"}, "provider_ref", "32 hexadecimal"),
        ({"address": "", "provider_ref": "PN" + "0" * 32}, "provider_ref", "MG"),
    ],
)
def test_a_bad_sms_sender_is_refused_on_its_field(
    admin_client, account, twilio, fields, field, says
):
    response = admin_client.post(f"{SENDERS}add/", sender_form(account, twilio, **fields))
    assert response.status_code == 200
    assert says in field_errors(response, field)
    assert not Sender.objects.exists()


def test_a_whatsapp_sender_needs_its_number_and_phone_number_id(admin_client, account, meta):
    form = sender_form(account, meta, channel="whatsapp", address="ACME")
    response = admin_client.post(f"{SENDERS}add/", form)
    assert "E.164" in field_errors(response, "address")
    assert "phone number id" in field_errors(response, "provider_ref")
    form.update(address="+14155550199", provider_ref="106540352242922")
    assert admin_client.post(f"{SENDERS}add/", form).status_code == 302
    assert Sender.objects.get().provider_ref == "106540352242922"


@pytest.mark.parametrize("channel", ["sms", "whatsapp"])
def test_a_sender_lives_on_an_account_of_its_channels_provider(
    admin_client, account, twilio, meta, channel
):
    wrong = meta if channel == "sms" else twilio
    form = sender_form(
        account, wrong, channel=channel, address="+14155550100", provider_ref="106540352242922"
    )
    if channel == "sms":
        form["provider_ref"] = ""
    response = admin_client.post(f"{SENDERS}add/", form)
    assert f"{channel} senders live on a" in field_errors(response, "account")
    assert not Sender.objects.exists()


def test_the_same_number_on_the_same_account_is_assigned_once(
    admin_client, account, other_account, twilio
):
    make_sender(account, twilio, "+14155550100")
    response = admin_client.post(f"{SENDERS}add/", sender_form(other_account, twilio))
    assert response.status_code == 200
    assert Sender.objects.count() == 1


def test_the_sender_list_filters_by_channel_customer_and_account(
    admin_client, account, other_account, twilio, meta
):
    mine = make_sender(account, twilio, "+14155550100")
    theirs = make_sender(other_account, make_twilio_account("Globex", "AC" + "9" * 32), "PARCELS")
    whatsapp = make_sender(account, meta, "+14155550199")

    def shown(**query) -> set:
        response = admin_client.get(SENDERS, query)
        assert response.status_code == 200
        return {row.pk for row in response.context["cl"].result_list}

    assert shown() == {mine.pk, theirs.pk, whatsapp.pk}
    assert shown(channel__exact="whatsapp") == {whatsapp.pk}
    assert shown(customer__id__exact=str(account.pk)) == {mine.pk, whatsapp.pk}
    assert shown(account__id__exact=str(twilio.pk)) == {mine.pk}
    assert shown(q="parcels") == {theirs.pk}


def test_senders_are_deactivated_not_deleted(admin_client, account, twilio):
    sender = make_sender(account, twilio, "+14155550100")
    response = admin_client.post(
        SENDERS, {"action": "deactivate", "_selected_action": [str(sender.pk)]}
    )
    assert response.status_code == 302
    sender.refresh_from_db()
    assert sender.is_active is False
    assert admin_client.get(f"{SENDERS}{sender.pk}/delete/").status_code == 403
    assert 'value="delete_selected"' not in admin_client.get(SENDERS).content.decode()


# ---- provider callbacks


def record_callback(outcome, *, url="https://sent.example.com/providers/twilio/status", **fields):
    return ProviderCallback.objects.create(
        provider=fields.pop("provider", "twilio"),
        kind=fields.pop("kind", "status"),
        outcome=outcome,
        url=url,
        received_at=timezone.now(),
        **fields,
    )


def test_the_operator_sees_rejected_callbacks_and_filters_them(admin_client, db):
    rejected = record_callback(
        CallbackOutcome.REJECTED, detail="X-Twilio-Signature does not match", body="MessageSid=SM1"
    )
    applied = record_callback(CallbackOutcome.APPLIED)
    webhook = record_callback(
        CallbackOutcome.IGNORED,
        provider="cloud_api",
        kind="webhook",
        url="https://sent.example.com/providers/whatsapp/webhook",
    )

    def shown(**query) -> set:
        return {row.pk for row in admin_client.get(CALLBACKS, query).context["cl"].result_list}

    assert shown() == {rejected.pk, applied.pk, webhook.pk}
    assert shown(outcome__exact="rejected") == {rejected.pk}
    assert shown(provider__exact="cloud_api") == {webhook.pk}
    assert shown(kind__exact="status") == {rejected.pk, applied.pk}
    assert shown(q="whatsapp/webhook") == {webhook.pk}
    assert shown(q="does not match") == {rejected.pk}
    page = admin_client.get(f"{CALLBACKS}{rejected.pk}/change/").content.decode()
    assert "X-Twilio-Signature does not match" in page and "MessageSid=SM1" in page


def test_callbacks_are_read_only(admin_client, db):
    callback = record_callback(CallbackOutcome.REJECTED)
    assert admin_client.get(f"{CALLBACKS}add/").status_code == 403
    response = admin_client.post(f"{CALLBACKS}{callback.pk}/change/", {"outcome": "applied"})
    assert response.status_code == 403
    assert admin_client.get(f"{CALLBACKS}{callback.pk}/delete/").status_code == 403
    callback.refresh_from_db()
    assert callback.outcome == "rejected"


def test_the_admin_index_names_the_provider_tables(admin_client, db):
    page = admin_client.get("/admin/").content.decode()
    assert "Provider accounts" in page and "Senders" in page and "Provider callbacks" in page
