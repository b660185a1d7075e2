"""The fixed cast: account, other_account, api_client, other_api_client, dashboard_client, sdk."""

import os

import pytest

from rest_framework.test import APIClient

from billing.selectors import ledger_problems
from billing.services import membership_create
from tests.factories import make_customer
from tests.queries import rate_limit_queries


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


@pytest.fixture
def instant_lifecycle(settings):
    """The simulator's receipts and the retry backoff without waiting (as in the issue:
    SIMULATOR_DELAY_SCALE=0); tests that want delays set them."""
    settings.SIMULATOR_DELAY_SCALE = 0
    settings.MESSAGE_RETRY_DELAY_SCALE = 0


@pytest.fixture
def assert_list_queries(settings, django_assert_num_queries, django_assert_max_num_queries):
    """`assert_list_queries(n)`: a paginated API list costs exactly `n` queries on SQLite, plus
    its rate limit's (rate_limit_queries). On
    PostgreSQL the planner's estimate comes first and may pick the key-first page (the keys,
    then the rows): at most two more, never more with more rows."""

    def check(count: int):
        # Plus the request's rate-limit count: one upsert when the counters are in the
        # database (sent_project/ratelimit.py), none with Redis.
        count += rate_limit_queries()
        if settings.IS_POSTGRES:
            return django_assert_max_num_queries(count + 2)
        return django_assert_num_queries(count)

    return check


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


@pytest.fixture(scope="session")
def chromium():
    from playwright.sync_api import sync_playwright

    from tests.browser import CHROMIUM, CHROMIUM_ARGS, chromium_available

    if not chromium_available():
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    # Playwright's sync API keeps an event loop in this thread; the ORM calls the tests make
    # around it are ordinary synchronous calls.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def watch_csp(page) -> list:
    """What the Content-Security-Policy refused on `page`: console errors naming it, and the
    `securitypolicyviolation` events of every document the page loads (collected at the end)."""
    seen: list = []
    page.add_init_script(
        "window.__cspViolations = [];"
        "document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations"
        ".push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} on ${location.pathname}`));"
    )
    page.on(
        "console",
        lambda message: (
            seen.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text
            else None
        ),
    )
    return seen


@pytest.fixture
def browser_page(chromium, live_server):
    """A fresh browser tab; `page.goto("/contacts/")` is relative to the live server. The test
    fails if the Content-Security-Policy refused anything on any page it visited (a test may
    name URLs it knows are refused in `page.csp_expected`)."""
    context = chromium.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 860}
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    violations = watch_csp(page)
    yield page
    try:
        page.evaluate("1")  # let pending console messages and events arrive
        violations.extend(page.evaluate("window.__cspViolations || []"))
    except Exception:  # noqa: BLE001 - the page is gone: what was seen so far stands
        pass
    context.close()
    expected = getattr(page, "csp_expected", ())
    violations = [v for v in violations if not any(url in v for url in expected)]
    assert not violations, f"Content-Security-Policy violations: {violations}"


@pytest.fixture
def signed_in_page(browser_page, live_account):
    """A browser tab signed in to the dashboard as a member of `live_account`."""
    membership_create(live_account, username="dana", password="a long dashboard password")
    browser_page.goto("/login/")
    browser_page.get_by_label("Username").fill("dana")
    browser_page.get_by_label("Password").fill("a long dashboard password")
    browser_page.get_by_role("button", name="Sign in").click()
    browser_page.wait_for_url("**/")
    return browser_page
