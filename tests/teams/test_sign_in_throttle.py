"""Sign-in throttling (docs/operations.md#sign-in-throttling): after too many failures the
form refuses even the right password, for a real username and an unknown one alike."""

import pytest

from django.core.cache import cache

from billing.services import membership_create

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def few_attempts(settings):
    settings.LOGIN_MAX_FAILURES = 3
    settings.LOGIN_LOCKOUT_SECONDS = 600
    cache.clear()
    yield
    cache.clear()


def _sign_in(client, username, password, address="10.0.0.1"):
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


def test_an_account_is_locked_after_failures_and_says_so_like_an_unknown_one(client, account):
    membership_create(account, username="erin", password="the right password")
    for n in range(3):
        wrong = _sign_in(client, "erin", "wrong", address=f"10.0.0.{n}")
        assert wrong.status_code == 200 and "Please enter a correct username" in wrong.text
    locked = _sign_in(client, "erin", "the right password", address="10.0.1.1")
    assert locked.status_code == 200 and "Too many failed sign-ins" in locked.text
    for n in range(3):
        _sign_in(client, "nobody", "wrong", address=f"10.0.2.{n}")
    unknown = _sign_in(client, "nobody", "whatever", address="10.0.3.1")
    assert unknown.text.count("Too many failed sign-ins") == locked.text.count(
        "Too many failed sign-ins"
    )


def test_an_address_is_locked_after_failures_on_any_username(client, account):
    membership_create(account, username="erin", password="the right password")
    for name in ("a", "b", "c"):
        _sign_in(client, name, "wrong")
    assert "Too many failed sign-ins" in _sign_in(client, "erin", "the right password").text
    ok = _sign_in(client, "erin", "the right password", address="10.9.9.9")
    assert ok.status_code == 302
