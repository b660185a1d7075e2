"""Email through a real SMTP server, configured the production way, from `EMAIL_URL`
(docs/operations.md#email): an invitation made through the API arrives at a local SMTP server
on 127.0.0.1, after logging in with the URL's user and password, with its link on `SITE_URL`."""

import email
import re
from email.policy import default as default_policy
from urllib.parse import urlsplit

import pytest

from sent_project.settings import _mailer
from tests.servers import SmtpServer

pytestmark = pytest.mark.django_db


def test_an_invitation_goes_out_through_the_smtp_server_of_email_url(
    api_client, client, settings, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://sent.example"
    settings.DEFAULT_FROM_EMAIL = "Sent <no-reply@sent.example>"
    with SmtpServer(username="mailer", password="p@ss word") as smtp:
        settings.MAILERS = {
            "default": _mailer(f"smtp://mailer:p%40ss%20word@127.0.0.1:{smtp.port}", 5)
        }
        with django_capture_on_commit_callbacks(execute=True):
            response = api_client.post(
                "/v3/users", {"email": "dev@acme.test", "name": "Dana", "role": "developer"}
            )
        assert response.status_code == 201
        assert smtp.received.wait(5)
    [(sender, recipients, raw, login)] = smtp.messages
    assert (sender, recipients, login) == ("no-reply@sent.example", ["dev@acme.test"], "mailer")
    message = email.message_from_bytes(raw, policy=default_policy)
    assert message["To"] == "dev@acme.test"
    assert message["Subject"] == "You're invited to Acme on Sent"
    body = message.get_body(("plain",)).get_content()
    link = re.search(r"https://sent\.example/invitations/\S+/", body).group(0)
    # The emailed link is the one that works.
    page = client.get(urlsplit(link).path)
    assert page.status_code == 200 and "Join Acme" in page.text


def test_a_wrong_smtp_password_is_an_error_not_a_silent_loss(settings, account):
    from smtplib import SMTPAuthenticationError

    from django.core.mail import send_mail

    with SmtpServer(username="mailer", password="right") as smtp:
        settings.MAILERS = {"default": _mailer(f"smtp://mailer:wrong@127.0.0.1:{smtp.port}", 5)}
        with pytest.raises(SMTPAuthenticationError):
            send_mail("Hi", "Body", "a@sent.example", ["b@acme.test"])
    assert smtp.messages == []


@pytest.mark.parametrize(
    "url,options",
    [
        ("smtp://mail.example", {"host": "mail.example", "port": 25, "use_tls": False}),
        (
            "smtp://u:p%2Fq@mail.example:587?tls=1",
            {"port": 587, "username": "u", "password": "p/q", "use_tls": True, "use_ssl": False},
        ),
        ("smtps://u:p@mail.example", {"port": 465, "use_ssl": True, "use_tls": False}),
    ],
)
def test_email_url_forms(url, options):
    mailer = _mailer(url, 10)
    assert mailer["BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert {key: mailer["OPTIONS"][key] for key in options} == options
    assert mailer["OPTIONS"]["timeout"] == 10


def test_email_url_defaults_to_the_console_and_refuses_an_unknown_scheme():
    assert _mailer("", 10)["BACKEND"].endswith("console.EmailBackend")
    with pytest.raises(ValueError, match="unknown scheme"):
        _mailer("http://mail.example", 10)
