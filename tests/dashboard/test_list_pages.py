"""Every dashboard list reads `?page=` the same way (sent_project.dashboard.list_page)."""

import pytest

from django.urls import reverse

from tests.dashboard.factories import make_webhook

LISTS = [
    "contacts:contact_list",
    "contacts:contact_import",
    "templates_app:template_list",
    "messaging:message_list",
    "messaging:inbox",
    "messaging:webhook_list",
    "billing:billing",
]


@pytest.mark.parametrize("name", LISTS)
@pytest.mark.parametrize("page", ["abc", "-3", "0", "1e3", "9" * 30])
def test_a_page_number_that_is_not_one_still_shows_the_list(dashboard_client, name, page):
    response = dashboard_client.get(reverse(name), {"page": page})
    assert response.status_code == 200


def test_a_page_beyond_the_last_says_there_is_nothing_there(dashboard_client, account):
    make_webhook(account)
    response = dashboard_client.get(reverse("messaging:webhook_list"), {"page": "9" * 30})
    assert response.status_code == 200
    assert "93.184.216.34" not in response.text
    assert 'href="?page=999999"' in response.text  # the previous page: MAX_PAGE - 1


def test_the_delivery_log_takes_a_huge_page_number_too(dashboard_client, account):
    endpoint, _ = make_webhook(account)
    url = reverse("messaging:webhook_detail", args=[endpoint.pk])
    assert dashboard_client.get(url, {"page": "9" * 30}).status_code == 200
