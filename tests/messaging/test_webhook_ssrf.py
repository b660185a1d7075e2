"""The SSRF guard at registration and at delivery
(docs/reliability.md#16-no-requests-to-private-networks-ssrf)."""

import ipaddress

import pytest

from messaging.models import WebhookDelivery, WebhookEndpoint
from messaging.webhooks import ssrf
from tests.messaging.webhook_helpers import emit, make_webhook

REFUSED = [
    "http://127.0.0.1/hook",
    "http://localhost/hook",
    "http://0.0.0.0/hook",
    "http://10.0.0.1/hook",
    "http://172.16.0.1/hook",
    "http://192.168.1.1/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.64.0.1/hook",
    "http://198.18.0.1/hook",
    "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://[fd00::1]/hook",
    "http://[fe80::1]/hook",
    "http://2130706433/",
    "http://0177.0.0.1/",
    "http://0x7f.1/",
    "http://127.1/",
    "http://224.0.0.1/",
    "http://[64:ff9b::7f00:1]/",
    # IPv6 forms embedding a refused IPv4 address (IPv4-compatible, -translated, 6to4, NAT64,
    # Teredo), whatever ipaddress's is_global says of the IPv6 address itself.
    "http://[::127.0.0.1]/",
    "http://[::169.254.169.254]/latest/meta-data/",
    "http://[::10.0.0.1]/",
    "http://[::a9fe:a9fe]/",
    "http://[::ffff:0:7f00:1]/",
    "http://[::ffff:0:a9fe:a9fe]/",
    "http://[::ffff:a9fe:a9fe]/",
    "http://[2002:a9fe:a9fe::1]/",
    "http://[2002:7f00:1::]/",
    "http://[64:ff9b::a9fe:a9fe]/",
    "http://[64:ff9b:1::a9fe:a9fe]/",
    "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://api.localhost/hook",
    "file:///etc/passwd",
    "gopher://example.com/_x",
    "ftp://example.com/",
    "http://user:pass@example.com/hook",
    # Not a valid URI: a "%" that starts no percent-encoded byte (the schema's uri format).
    "http://example.com/hook?x=4%",
    "http://example.com/a%zz",
    "not a url",
]


@pytest.mark.parametrize("url", REFUSED)
def test_registration_refuses_unsafe_urls_with_a_stable_code(api_client, url):
    response = api_client.post("/v3/webhooks", {"endpoint_url": url, "event_types": ["message"]})
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "WEBHOOK_001"
    assert "endpoint_url" in error["details"]
    assert not WebhookEndpoint.objects.exists()


def test_changing_the_url_to_an_unsafe_one_is_refused_too(api_client, account):
    endpoint, _ = make_webhook(account, "https://93.184.216.34/hook")
    response = api_client.put(f"/v3/webhooks/{endpoint.pk}", {"endpoint_url": "http://10.1.2.3/"})
    assert response.json()["error"]["code"] == "WEBHOOK_001"
    endpoint.refresh_from_db()
    assert endpoint.endpoint_url == "https://93.184.216.34/hook"


def test_public_addresses_and_names_are_accepted(api_client, monkeypatch):
    monkeypatch.setattr(ssrf, "resolve", lambda host, port: ["93.184.216.34"])
    for url in [
        "https://93.184.216.34/hook",
        "http://[2606:4700::1]:8443/x",
        # IPv6 forms of a public IPv4 address: allowed, as the address itself is.
        "http://[::ffff:93.184.216.34]/x",
        "http://[2002:5db8:d822::1]/x",
        "http://[64:ff9b::5db8:d822]/x",
        "https://hooks.example.com/sent",
    ]:
        response = api_client.post(
            "/v3/webhooks", {"endpoint_url": url, "event_types": ["message"]}
        )
        assert response.status_code == 201, (url, response.content)


def test_a_name_resolving_to_a_private_address_is_refused_at_registration(api_client, monkeypatch):
    monkeypatch.setattr(ssrf, "resolve", lambda host, port: ["93.184.216.34", "10.0.0.7"])
    response = api_client.post(
        "/v3/webhooks", {"endpoint_url": "https://mixed.example.com/", "event_types": ["message"]}
    )
    assert response.json()["error"]["code"] == "WEBHOOK_001"
    assert "10.0.0.7" in response.json()["error"]["message"]


def test_a_name_that_does_not_resolve_yet_is_accepted_and_checked_at_delivery(api_client):
    response = api_client.post(
        "/v3/webhooks", {"endpoint_url": "https://not-yet.invalid/h", "event_types": ["message"]}
    )
    assert response.status_code == 201


def test_dns_rebinding_at_delivery_is_blocked_and_makes_no_connection(
    account, receiver, monkeypatch, django_capture_on_commit_callbacks
):
    url = f"http://rebind.example.com:{receiver.port}/hook"
    monkeypatch.setattr(ssrf, "resolve", lambda host, port: ["93.184.216.34"])
    make_webhook(account, url)  # public at registration
    monkeypatch.setattr(ssrf, "resolve", lambda host, port: ["127.0.0.1"])  # loopback now
    event = emit(account, capture=django_capture_on_commit_callbacks, run=False)
    from tests.tasks import run_queued_tasks

    run_queued_tasks(max_jobs=2)
    attempt = WebhookDelivery.objects.get(event=event).attempt_log.get()
    assert attempt.outcome == "blocked"
    assert "127.0.0.1 is a loopback address" in attempt.error
    assert receiver.connections == 0 and receiver.received == []


@pytest.mark.parametrize(
    "address",
    [
        "::127.0.0.1",
        "::a9fe:a9fe",
        "::ffff:0:7f00:1",
        "::ffff:0:10.0.0.1",
        "2002:0a00:0001::1",
        "64:ff9b::7f00:1",
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",
    ],
)
def test_a_name_resolving_to_an_ipv6_form_of_a_refused_ipv4_is_blocked_at_delivery(
    account, receiver, monkeypatch, django_capture_on_commit_callbacks, address
):
    monkeypatch.setattr(ssrf, "resolve", lambda host, port: ["93.184.216.34"])
    make_webhook(account, f"http://v6.example.com:{receiver.port}/hook")
    monkeypatch.setattr(ssrf, "resolve", lambda host, port: [address])
    event = emit(account, capture=django_capture_on_commit_callbacks, run=False)
    from tests.tasks import run_queued_tasks

    run_queued_tasks(max_jobs=2)
    attempt = WebhookDelivery.objects.get(event=event).attempt_log.get()
    assert attempt.outcome == "blocked"
    assert "embeds" in attempt.error
    assert receiver.connections == 0


@pytest.mark.parametrize(
    ("address", "embedded"),
    [
        ("::ffff:127.0.0.1", ["127.0.0.1"]),
        ("::127.0.0.1", ["127.0.0.1"]),
        ("::ffff:0:7f00:1", ["127.0.0.1"]),
        ("2002:a9fe:a9fe::1", ["169.254.169.254"]),
        ("64:ff9b::a9fe:a9fe", ["169.254.169.254"]),
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", ["65.54.227.120", "192.0.2.45"]),
        ("::1", []),
        ("::", []),
        ("2606:4700::1", []),
    ],
)
def test_the_ipv4_addresses_an_ipv6_address_embeds(address, embedded):
    assert ssrf.embedded_ipv4(ipaddress.ip_address(address)) == [
        ipaddress.ip_address(a) for a in embedded
    ]


def test_the_request_goes_to_the_vetted_address_with_the_original_host_header(
    account, receiver, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    resolved = iter([["127.0.0.1"], ["127.0.0.1"]])
    monkeypatch.setattr(ssrf, "resolve", lambda host, port: next(resolved))
    make_webhook(account, f"http://hooks.example.com:{receiver.port}/hook")
    emit(account, capture=django_capture_on_commit_callbacks)
    [hit] = receiver.received
    assert hit.headers["Host"] == f"hooks.example.com:{receiver.port}"
    assert hit.path == "/hook"


def test_allowing_private_targets_re_allows_loopback_but_never_metadata(api_client, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    for url in ["http://127.0.0.1:9000/hook", "http://10.0.0.1/", "http://localhost:8000/x"]:
        response = api_client.post(
            "/v3/webhooks", {"endpoint_url": url, "event_types": ["message"]}
        )
        assert response.status_code == 201, (url, response.content)
    for url in ["http://169.254.169.254/", "http://0.0.0.0/", "http://[fe80::1]/"]:
        response = api_client.post(
            "/v3/webhooks", {"endpoint_url": url, "event_types": ["message"]}
        )
        assert response.json()["error"]["code"] == "WEBHOOK_001", url


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("2130706433", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("10.1", "10.0.0.1"),
        ("::ffff:10.0.0.1", "::ffff:10.0.0.1"),
    ],
)
def test_numeric_host_spellings_are_read_as_addresses(host, address):
    assert ssrf.literal_ip(host) == ipaddress.ip_address(address)


def test_ordinary_names_are_not_addresses():
    assert ssrf.literal_ip("example.com") is None
    assert ssrf.literal_ip("1.2.3.4.nip.io") is None
