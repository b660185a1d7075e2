"""URL safety for webhook targets (server-side request forgery guard).

Checked twice: when an endpoint is registered or changed (`url_check`) and at every delivery
after DNS resolution (`url_target`), which returns the vetted IP the request must connect to,
so a name that resolves to a public address at registration and to 127.0.0.1 later (DNS
rebinding) is refused without a connection being made.

Refused: schemes other than http/https, credentials in the URL, and any address that is not
globally routable: loopback, RFC 1918 private, link-local (169.254/16, cloud metadata),
CGNAT (100.64/10), benchmarking (198.18/15), documentation, unspecified (0.0.0.0, ::),
multicast, reserved, IPv6 ULA (fc00::/7) and link-local, and every IPv6 form embedding a
refused IPv4 address (IPv4-mapped ::ffff:127.0.0.1, IPv4-compatible ::127.0.0.1,
IPv4-translated ::ffff:0:127.0.0.1, 6to4, NAT64, Teredo: `embedded_ipv4`). Numeric host spellings (`2130706433`,
`0177.0.0.1`, `0x7f.1`) are read the way the C resolver reads them. With
WEBHOOK_ALLOW_PRIVATE_TARGETS, loopback and private ranges (RFC 1918, ULA, CGNAT) are
allowed; link-local/metadata, unspecified, multicast and reserved addresses never are.
"""

import ipaddress
import re
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Names that are internal whatever they resolve to.
BLOCKED_NAMES = ("localhost", "metadata.google.internal", "metadata")
BLOCKED_SUFFIXES = (".localhost", ".internal", ".local")
NAT64 = ipaddress.ip_network("64:ff9b::/96")
# Local-use NAT64 (RFC 8215): where the IPv4 address sits depends on the operator's prefix
# length, and no public destination lives there: refused whole.
LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
IPV4_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")
PRIVATE_ALLOWED_WHEN_OPTED_IN = [
    ipaddress.ip_network(net)
    for net in (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "::1/128",
        "fc00::/7",
        "198.18.0.0/15",
    )
]
_NUMERIC_HOST = re.compile(r"^(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+)){0,3}$", re.I)


class UnsafeTarget(Exception):
    """The URL or the address it resolves to may not receive webhooks (message says why)."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # as written in the URL (a name, or an IP without brackets)
    port: int
    ip: str  # the vetted address to connect to


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries (docs/api/webhooks.md#url-safety-ssrf), to be judged in
    its place: IPv4-mapped ::ffff:a.b.c.d, IPv4-compatible ::a.b.c.d (deprecated; `::` and
    `::1` excepted), IPv4-translated ::ffff:0:a.b.c.d, 6to4 2002:AABB:CCDD::/48, NAT64
    64:ff9b::a.b.c.d and Teredo 2001:0::/32 (its server and its client)."""
    low32 = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.ipv4_mapped:
        return [ip.ipv4_mapped]
    if ip in IPV4_COMPATIBLE and int(ip) > 1:
        return [low32]
    if ip in IPV4_TRANSLATED or ip in NAT64:
        return [low32]
    if ip.sixtofour:
        return [ip.sixtofour]
    if ip.teredo:
        return list(ip.teredo)
    return []


def address_problem(ip: IPAddress) -> str | None:
    """Why this address may not receive webhooks, or None if it may."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in LOCAL_NAT64:
            return f"{ip} is a local-use NAT64 address"
        embedded = embedded_ipv4(ip)
        for address in embedded:
            problem = address_problem(address)
            if problem:
                return f"{ip} embeds {address}, and {problem}"
        if embedded:
            return None
    if ip.is_unspecified:
        return f"{ip} is the unspecified address"
    if ip.is_multicast:
        return f"{ip} is a multicast address"
    if ip.is_link_local:
        return f"{ip} is a link-local (metadata) address"
    if settings.WEBHOOK_ALLOW_PRIVATE_TARGETS and any(
        ip.version == net.version and ip in net for net in PRIVATE_ALLOWED_WHEN_OPTED_IN
    ):
        return None
    if ip.is_loopback:
        return f"{ip} is a loopback address"
    if not ip.is_global:
        return f"{ip} is a private or reserved address"
    return None


def literal_ip(host: str) -> IPAddress | None:
    """The address a host spelled as an IP stands for (including `2130706433`, `0177.0.0.1`)."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if _NUMERIC_HOST.match(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            raise UnsafeTarget(f"{host!r} is not a valid address") from None
    return None


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (the seam tests patch to simulate DNS)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


# One pattern for the OpenAPI schema and the server: an http(s) URL whose host is a DNS name
# (RFC 1123 labels) or an IP literal, with an optional port, path and query.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
# A "%" only as a percent-encoded byte (%XX): a lone one makes the URI invalid (RFC 3986).
_PATH_CHAR = r"(?:[A-Za-z0-9._~!$&'()*+,;=:@/-]|%[0-9A-Fa-f]{2})"
_QUERY_CHAR = r"(?:[A-Za-z0-9._~!$&'()*+,;=:@/?-]|%[0-9A-Fa-f]{2})"
WEBHOOK_URL_PATTERN = (
    rf"^https?://(?:{_LABEL}(?:\.{_LABEL})*\.?|\[[0-9A-Fa-f:.]+\])(?::[0-9]{{1,5}})?"
    rf"(?:/{_PATH_CHAR}*)?(?:\?{_QUERY_CHAR}*)?$"
)


def _split(url: str) -> tuple[str, str, int]:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeTarget(f"the URL is malformed ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UnsafeTarget("only http:// and https:// URLs can receive webhooks")
    if parts.username is not None or parts.password is not None:
        raise UnsafeTarget("the URL may not contain a user name or password")
    if not re.match(WEBHOOK_URL_PATTERN, url, flags=re.IGNORECASE):
        raise UnsafeTarget("the URL is not a valid http(s) URL with a host name")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise UnsafeTarget("the URL has no host")
    return scheme, host, port or (443 if scheme == "https" else 80)


def _name_problem(host: str) -> str | None:
    if settings.WEBHOOK_ALLOW_PRIVATE_TARGETS:
        return None
    if host in BLOCKED_NAMES or host.endswith(BLOCKED_SUFFIXES):
        return f"{host} is an internal host name"
    return None


def url_check(url: str) -> None:
    """Registration-time check. Names are resolved when DNS answers; a name that doesn't
    resolve yet is accepted (every delivery checks again)."""
    _scheme, host, port = _split(url)
    ip = literal_ip(host)
    if ip is not None:
        problem = address_problem(ip)
        if problem:
            raise UnsafeTarget(problem)
        return
    problem = _name_problem(host)
    if problem:
        raise UnsafeTarget(problem)
    try:
        addresses = resolve(host, port)
    except OSError:
        return
    for address in addresses:
        problem = address_problem(ipaddress.ip_address(address))
        if problem:
            raise UnsafeTarget(f"{host} resolves to {problem}")


def url_target(url: str) -> Target:
    """Delivery-time check: resolve now, refuse if any address is unsafe, return the one to
    connect to. Raises UnsafeTarget, or OSError when the name does not resolve."""
    scheme, host, port = _split(url)
    ip = literal_ip(host)
    if ip is not None:
        addresses = [str(ip)]
    else:
        problem = _name_problem(host)
        if problem:
            raise UnsafeTarget(problem)
        addresses = resolve(host, port)  # OSError (no such name) is the caller's to report
    if not addresses:
        raise UnsafeTarget(f"{host} does not resolve")
    for address in addresses:
        problem = address_problem(ipaddress.ip_address(address))
        if problem:
            raise UnsafeTarget(f"{host} resolves to {problem}" if ip is None else problem)
    return Target(scheme=scheme, host=host, port=port, ip=addresses[0])
