"""Every phone number a page shows as an example is one the account viewing it can use: the
add-contact help, the CSV sample of the import page and the playground's recipients
placeholder, for a US and a GB account (docs/dashboard.md)."""

import html
import re

import pytest

from billing.models import Customer
from contacts.phone import InvalidPhoneNumber, parse_phone

# A number as a person writes one: at least eight digits with spaces, brackets, dashes, a "+";
# a fragment cut short by "…" is a search hint, not an example.
NUMBER = re.compile(r"(?<![\w+])\+?\(?\d[\d ()-]{6,}\d(?![\d…])")
PAGES = ["/contacts/", "/contacts/import/", "/playground/"]


@pytest.mark.parametrize("region", ["US", "GB"])
def test_example_numbers_are_valid_for_the_account_that_sees_them(
    dashboard_client, account, region
):
    Customer.objects.filter(pk=account.pk).update(default_region=region)
    refused = []
    for url in PAGES:
        response = dashboard_client.get(url)
        assert response.status_code == 200, url
        text = html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode()))
        placeholders = re.findall(r'placeholder="([^"]*)"', response.content.decode())
        for example in NUMBER.findall(text + "\n" + "\n".join(map(html.unescape, placeholders))):
            if sum(c.isdigit() for c in example) < 8:
                continue
            try:
                parse_phone(example.strip(), default_region=region)
            except InvalidPhoneNumber as error:
                refused.append(f"{url}: {example!r} ({error})")
    assert not refused, refused
