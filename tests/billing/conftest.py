import pytest

from django.contrib.auth import get_user_model


@pytest.fixture
def admin_client(client, db):
    """A logged-in superuser, without pytest-django's slow password hashing."""
    user = get_user_model().objects.create_superuser(username="root", email="", password=None)
    client.force_login(user)
    return client


@pytest.fixture
def ledger_tampering():
    """Marks a test that breaks the ledger on purpose (skips the suite-wide ledger check)."""
