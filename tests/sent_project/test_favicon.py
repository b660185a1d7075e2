"""The favicon: an SVG in static/, linked from every page's head and answered at /favicon.ico,
which browsers ask for on their own (docs/dashboard.md#how-it-is-built)."""

import re

from django.test import Client


def fetch(client: Client, url: str):
    response = client.get(url)
    assert response.status_code == 200, url
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_favicon_ico_redirects_to_the_svg_icon(client, db):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"].endswith("favicon.svg")
    icon = client.get(response["Location"])
    assert icon.status_code == 200
    assert icon["Content-Type"].startswith("image/svg+xml")
    assert b"<svg" in fetch(client, response["Location"])


def test_the_pages_link_the_icon(client, dashboard_client):
    for page_client, path in [
        (client, "/login/"),
        (client, "/docs/"),
        (dashboard_client, "/"),
        (dashboard_client, "/no-such-page/"),
    ]:
        html = page_client.get(path).text
        link = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', html)
        assert link, path
        assert b"<svg" in fetch(client, link[1])
