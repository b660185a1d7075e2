"""Each role on every dashboard page and action (docs/dashboard.md#roles): the test client
opens every URL of the dashboard's apps as each role, reading (GET) and changing (POST), and
a role outside the page's row gets the 403 page. The table below is the product's, written
out here on its own (by path), not read from the code."""

import uuid

import pytest

from django.urls import URLPattern, URLResolver, get_resolver, reverse

from billing.services import membership_create

DEV, BILLING, ADMIN = "developer", "billing", "admin"
# path prefix → (roles that may read, roles that may change)
TABLE = {
    "/api-keys/": ({DEV, ADMIN}, {DEV, ADMIN}),
    "/webhooks/": ({DEV, ADMIN}, {DEV, ADMIN}),
    "/templates/": ({DEV, ADMIN}, {DEV, ADMIN}),
    "/contacts/": ({DEV, ADMIN}, {DEV, ADMIN}),
    "/playground/": ({DEV, ADMIN}, {DEV, ADMIN}),
    "/senders/": ({DEV, ADMIN}, {DEV, ADMIN}),
    "/messages/": ({DEV, BILLING, ADMIN}, {DEV, ADMIN}),
    "/inbox/": ({DEV, BILLING, ADMIN}, {DEV, ADMIN}),
    "/queue/": ({DEV, BILLING, ADMIN}, {DEV, ADMIN}),
    "/billing/prices/": ({DEV, BILLING, ADMIN}, {BILLING, ADMIN}),  # before "/billing/"
    "/billing/": ({BILLING, ADMIN}, {BILLING, ADMIN}),
    "/users/": ({ADMIN}, {ADMIN}),
    "/audit-log": ({ADMIN}, {ADMIN}),
    "/account/security/": ({DEV, BILLING, ADMIN}, {DEV, BILLING, ADMIN}),
}
PUBLIC = {"billing:invitation"}


def _dashboard_urls() -> list[tuple[str, str]]:
    """(URL name, a URL) of every page and action of the dashboard apps."""
    found = []

    def walk(patterns, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.namespace in {"billing", "contacts", "templates_app", "messaging"}:
                    walk(pattern.url_patterns, pattern.namespace)
            elif isinstance(pattern, URLPattern) and namespace and pattern.name:
                name = f"{namespace}:{pattern.name}"
                if name in PUBLIC:
                    continue
                kwargs = {key: uuid.uuid4() for key in pattern.pattern.converters}
                found.append((name, reverse(name, kwargs=kwargs)))

    walk(get_resolver().url_patterns, None)
    return sorted(found)


URLS = _dashboard_urls()


def _expected(path: str, role: str, write: bool) -> bool:
    for prefix, (readers, writers) in TABLE.items():
        if path.startswith(prefix):
            return role in (writers if write else readers)
    raise AssertionError(f"{path} is in no row of the table: add it")


def test_every_dashboard_url_is_in_the_table():
    assert len(URLS) > 40
    for _, path in URLS:
        _expected(path, ADMIN, False)


@pytest.fixture
def as_role(client, account):
    def sign_in(role):
        member = membership_create(account, username=f"u-{role}", password="x", role=role)
        client.force_login(member.user)
        client.raise_request_exception = False
        return client

    return sign_in


@pytest.mark.parametrize("role", [DEV, BILLING, ADMIN])
def test_each_role_may_open_exactly_its_pages_and_actions(as_role, role):
    client = as_role(role)
    wrong = []
    for name, path in URLS:
        for method in ("get", "post"):
            status = getattr(client, method)(path).status_code
            allowed = _expected(path, role, write=method == "post")
            if allowed == (status == 403):
                wrong.append(f"{method.upper()} {path} ({name}): {status}")
    assert wrong == []


@pytest.mark.parametrize(
    "role,labels",
    [
        (
            DEV,
            [
                "Home",
                "Inbox",
                "Contacts",
                "Templates",
                "Playground",
                "Messages",
                "Queue",
                "Prices",
                "Webhooks",
                "Senders",
                "API keys",
            ],
        ),
        (BILLING, ["Home", "Inbox", "Messages", "Queue", "Billing", "Prices"]),
    ],
)
def test_the_navigation_shows_only_what_the_role_may_use(as_role, role, labels):
    page = as_role(role).get("/")
    assert [item["label"] for item in page.context["nav_items"]] == labels


def test_an_admin_sees_users_and_the_audit_log_in_the_navigation(as_role):
    labels = [item["label"] for item in as_role(ADMIN).get("/").context["nav_items"]]
    assert labels[-2:] == ["Users", "Audit log"] and "Billing" in labels


def test_a_forbidden_page_says_so(as_role):
    response = as_role(BILLING).get("/api-keys/")
    assert response.status_code == 403
    assert "You can't do that here" in response.content.decode()
