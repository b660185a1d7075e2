"""The fixed cast: account, other_account, api_client, other_api_client, dashboard_client, sdk."""

import pytest
from rest_framework.test import APIClient

from billing.selectors import ledger_problems
from billing.services import membership_create
from tests.factories import make_customer


@pytest.fixture
def account(db):
    return make_customer("Acme")


@pytest.fixture
def other_account(db):
    return make_customer("Globex")


@pytest.fixture(autouse=True)
def ledger_is_consistent_after_each_test(request):
    """After every test that touched the database, each customer's ledger replays to its
    balance — what `manage.py check_ledger` verifies (billing issue). A test that breaks the
    ledger on purpose asks for the `ledger_tampering` fixture to opt out."""
    names = set(request.fixturenames)
    marked = request.node.get_closest_marker("django_db") is not None
    if "ledger_tampering" in names or not (marked or names & {"db", "transactional_db"}):
        yield
        return
    if not marked:
        # Set the database up from here, so it is torn down (rolled back) after our check.
        request.getfixturevalue("transactional_db" if "transactional_db" in names else "db")
    yield
    assert ledger_problems()[2] == [], "the ledger no longer sums to the balance"


def _api_client(customer) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=customer.raw_api_key)
    return client


@pytest.fixture
def api_client(account):
    return _api_client(account)


@pytest.fixture
def other_api_client(other_account):
    return _api_client(other_account)


@pytest.fixture
def dashboard_user(account):
    return membership_create(account, username="alice", password="correct horse battery").user


@pytest.fixture
def dashboard_client(client, dashboard_user):
    client.force_login(dashboard_user)
    return client


@pytest.fixture
def sdk_factory(live_server):
    """Build an official SDK client (`sent_dm.Sent`) pointed at the live test server."""
    from sent_dm import Sent

    def build(customer, **options):
        options.setdefault("max_retries", 0)
        return Sent(api_key=customer.raw_api_key, base_url=live_server.url, **options)

    return build


@pytest.fixture
def live_account(transactional_db):
    return make_customer("Acme")


@pytest.fixture
def live_other_account(transactional_db):
    return make_customer("Globex")


@pytest.fixture
def sdk(sdk_factory, live_account):
    """The official SDK as `live_account` (needs the live server, so transactional)."""
    return sdk_factory(live_account)


@pytest.fixture
def other_sdk(sdk_factory, live_other_account):
    return sdk_factory(live_other_account)
