"""Every dashboard page holds at a desktop (1280×800) and a phone (390×844) viewport with long
values in it (a 300-character URL without spaces, a 100-character API key name, a long template
title, a long webhook URL and payload): the page is no wider than the viewport, each table row's
last action is on screen and on one line, and phone numbers never wrap. On the phone the
navigation is a menu that opens and shows every link. One browser, one live server, the pages
visited in a loop; a screenshot of each in artifacts/screenshots/layout-*
(docs/dashboard.md#tests-and-screenshots)."""

import pytest

from billing.services import api_key_create, membership_create
from templates_app.models import Template
from tests.browser import screenshot
from tests.contacts.factories import make_contact
from tests.dashboard.factories import make_delivery, make_webhook
from tests.messaging.factories import make_approved_template, send
from tests.tasks import run_queued_tasks
from tests.templates_app.factories import make_template

pytestmark = pytest.mark.browser

LONG_URL = "https://track.example.com/" + "a1b2c3d4e5" * 28
PAGES = [
    "/",
    "/contacts/",
    "/contacts/import/",
    "/templates/",
    "/templates/new/",
    "/playground/",
    "/messages/",
    "/inbox/",
    "/inbox/keywords/",
    "/senders/",
    "/webhooks/",
    "/webhooks/new/",
    "/api-keys/",
    "/billing/",
    "/billing/prices/",
    "/users/",
    "/queue/",
    "/audit-log/",
]
VIEWPORTS = {"desktop": (1280, 800), "phone": (390, 844)}

MEASURE = """() => {
  const width = window.innerWidth;
  const lines = (element) => {  // how many lines the element's text takes
    const range = document.createRange();
    range.selectNodeContents(element);
    return new Set([...range.getClientRects()].filter((r) => r.width > 0)
      .map((r) => Math.round(r.bottom))).size;
  };
  const hidden = [], broken = [];
  for (const row of document.querySelectorAll('tbody tr')) {
    const actions = row.querySelectorAll('a, button');
    if (!actions.length) continue;
    const last = actions[actions.length - 1];
    const box = last.getBoundingClientRect();
    const scroller = row.closest('.table-wrap');
    const right = scroller ? Math.min(width, scroller.getBoundingClientRect().right) : width;
    if (box.right > right + 1) hidden.push(row.innerText.slice(0, 60));
    if (last.matches('button, .button') && lines(last) > 1) broken.push(last.innerText);
  }
  for (const number of document.querySelectorAll('.number')) {
    if (lines(number) > 1) broken.push(number.innerText);
  }
  return {scrollWidth: document.documentElement.scrollWidth, width, hidden, broken};
}"""


def test_every_page_fits_both_viewports_with_long_values(signed_in_page, live_account):
    make_contact(live_account, "+14155550100", metadata={"name": "Ana", "link": LONG_URL})
    api_key_create(live_account, name="k" * 100)
    membership_create(
        live_account,
        username="long",
        password="x",
        email=f"{'l' * 60}@example.test",
        role="developer",
    )
    template = make_template(
        live_account,
        status=Template.Status.PENDING,
        display_name="Hi …, your order … has shipped and will arrive soon. " * 3,
    )
    endpoint, _ = make_webhook(live_account, url=f"https://93.184.216.34/{'h' * 200}")
    delivery = make_delivery(endpoint)
    delivery.event.payload = {"link": LONG_URL}  # the payload sent, shown in the log
    delivery.event.save(update_fields=["payload"])
    contact = make_contact(live_account, "+14155550161", metadata={"name": "Bo", "note": LONG_URL})
    make_approved_template(live_account)
    send(live_account, [contact.phone_number])
    run_queued_tasks(include_future=True)
    message = contact.messages.get()
    pages = [
        *PAGES,
        f"/templates/{template.pk}/",
        f"/webhooks/{endpoint.pk}/",
        f"/contacts/{contact.pk}/",
        f"/messages/{message.pk}/",
    ]
    page = signed_in_page
    problems = []
    for size, (width, height) in VIEWPORTS.items():
        page.set_viewport_size({"width": width, "height": height})
        for url in pages:
            page.goto(url)
            found = page.evaluate(MEASURE)
            name = url.strip("/").replace("/", "-") or "home"
            for detail, kind in ((f"{template.pk}", "template"), (f"{endpoint.pk}", "webhook")):
                name = name.replace(detail, kind)
            screenshot(page, f"layout-{size}-{name}")
            if found["scrollWidth"] > found["width"]:
                problems.append(f"{size} {url}: {found['scrollWidth']} px wide > {width}")
            if found["hidden"]:
                problems.append(f"{size} {url}: action off-screen in {found['hidden']}")
            if found["broken"]:
                problems.append(f"{size} {url}: wrapped over lines: {found['broken']}")
    assert not problems, "\n".join(problems)


def test_on_a_phone_the_navigation_is_a_menu_with_every_link(signed_in_page):
    page = signed_in_page
    page.goto("/")
    nav = page.get_by_role("navigation", name="Main")
    labels = nav.get_by_role("link").all_inner_texts()
    assert "Contacts" in labels and "API keys" in labels
    page.set_viewport_size({"width": 390, "height": 844})
    menu = page.get_by_role("button", name="Menu")
    assert nav.is_hidden() and menu.is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    menu.click()
    for label in labels:
        link = nav.get_by_role("link", name=label, exact=True)
        link.wait_for()
        box = link.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390, label
        assert box["y"] + box["height"] <= 844, label
    screenshot(page, "layout-phone-menu")
    nav.get_by_role("link", name="Contacts", exact=True).click()
    page.wait_for_url("**/contacts/")
    assert nav.is_hidden()  # a new page: the menu is closed again
    page.set_viewport_size({"width": 1280, "height": 800})
    assert nav.is_visible() and menu.is_hidden()  # on a desktop, the bar
