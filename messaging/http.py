"""The one factory for outbound HTTP (webhook deliveries, provider adapters).

Everything that calls another server builds its client here, so timeouts, redirects and
the User-Agent are set in one place and tests have one seam to patch.
"""

import functools
import ssl

import httpx

USER_AGENT = "Sent/1.0"


@functools.cache
def _tls_context(trust_env: bool) -> ssl.SSLContext:
    """httpx's default verifying TLS context (SSL_CERT_FILE / SSL_CERT_DIR read only with
    `trust_env`, as httpx does), built once: loading the CA bundle costs tens of ms, and a
    webhook attempt makes a client of its own."""
    return httpx.create_ssl_context(trust_env=trust_env)


def http_client(
    *, timeout: float, follow_redirects: bool = False, trust_env: bool = True
) -> httpx.Client:
    """A new `httpx.Client`; use it as a context manager. Redirects are not followed unless
    asked for; `trust_env=False` ignores proxy variables (webhooks connect to a vetted IP)."""
    return httpx.Client(
        timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
        follow_redirects=follow_redirects,
        trust_env=trust_env,
        verify=_tls_context(trust_env),
        headers={"user-agent": USER_AGENT},
    )
