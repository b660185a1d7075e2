"""The production gunicorn configuration (deploy/gunicorn.conf.py) keeps answering while slow
clients hold connections open (docs/operations.md#web-server): 20 clients sending their
headers one line every 2 s don't stop /healthz from answering within a second."""

import socket
import threading

import httpx
import pytest

from tests.servers import gunicorn

pytestmark = pytest.mark.slow
SLOW_CLIENTS = 20


class SlowClient(threading.Thread):
    """Sends a request line, then one header line every 2 s, never finishing the headers."""

    def __init__(self, port: int, stop: threading.Event):
        super().__init__(daemon=True)
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.stop = stop
        self.sent = threading.Event()

    def run(self):
        try:
            self.sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            self.sent.set()
            n = 0
            while not self.stop.wait(2.0):
                n += 1
                self.sock.sendall(f"X-Slow-{n}: 1\r\n".encode())
        except OSError:
            self.sent.set()
        finally:
            self.sock.close()


def test_healthz_answers_while_20_slow_clients_are_connected(transactional_db):
    with gunicorn(workers=4) as url:
        port = int(url.rsplit(":", 1)[1])
        for _ in range(8):  # every worker up, with its database connection
            assert httpx.get(f"{url}/healthz", timeout=30).status_code == 200
        stop = threading.Event()
        clients = [SlowClient(port, stop) for _ in range(SLOW_CLIENTS)]
        try:
            for client in clients:
                client.start()
            for client in clients:
                assert client.sent.wait(10)
            # Each request gets a fresh connection (no keep-alive), as a load balancer probes.
            for _ in range(10):
                response = httpx.get(f"{url}/healthz", timeout=1.0)
                assert response.status_code == 200
                assert response.json() == {"status": "ok"}
        finally:
            stop.set()
            for client in clients:
                client.join(timeout=5)
