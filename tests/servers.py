"""Real servers for tests that need several processes: gunicorn, started with the production
configuration (deploy/gunicorn.conf.py) on the test database; a tiny SMTP server."""

import base64
import contextlib
import os
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(settings.BASE_DIR)
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"


def subprocess_env(**extra) -> dict:
    """An environment whose Django uses this test's database (SQLite file or PostgreSQL)."""
    env = {**os.environ, "LOG_LEVEL": "WARNING", "DB_CONN_MAX_AGE": "0"}
    env.pop("REDIS_URL", None)
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
        env["DATABASE_URL"] = (
            f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}"
        )
    else:
        env["SQLITE_PATH"] = str(db["NAME"])
    env.update({name: str(value) for name, value in extra.items()})
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answers(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), 0.5).close()
        return True
    except OSError:
        return False


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


@contextlib.contextmanager
def gunicorn(*, workers: int = 4, **env):
    """gunicorn with deploy/gunicorn.conf.py (and `env`: GUNICORN_THREADS=…); yields its base
    URL once its `workers` processes are running, stops it afterwards."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF), "sent_project.wsgi"],
        cwd=ROOT,
        env=subprocess_env(
            GUNICORN_BIND=f"127.0.0.1:{port}",
            GUNICORN_WORKERS=workers,
            GUNICORN_LOG_LEVEL="warning",
            DEBUG="true",
            **env,
        ),
    )
    try:
        deadline = time.monotonic() + 60
        while not answers("127.0.0.1", port) or len(children(process.pid)) < workers:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not start")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.send_signal(signal.SIGINT)  # quick shutdown: the test is over
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class SmtpServer:
    """A tiny SMTP server on 127.0.0.1 for tests (EHLO, AUTH PLAIN, MAIL, RCPT, DATA, QUIT):
    keeps every message it receives as (sender, recipients, raw message bytes, login), and
    refuses any login but `username`/`password` when they are given."""

    def __init__(self, *, username: str = "", password: str = ""):
        self.username, self.password = username, password
        self.messages: list[tuple[str, list[str], bytes, str]] = []
        self.received = threading.Event()
        server = self

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, line: str) -> None:
                self.wfile.write(line.encode() + b"\r\n")

            def handle(self) -> None:
                sender, recipients, login = "", [], ""
                self.reply("220 localhost test SMTP")
                while line := self.rfile.readline():
                    command = line.decode().rstrip("\r\n")
                    verb = command.split(" ", 1)[0].upper()
                    if verb in ("EHLO", "HELO"):
                        self.wfile.write(b"250-localhost\r\n250 AUTH PLAIN\r\n")
                    elif verb == "AUTH":
                        _, _, token = command.split(" ", 2)
                        _, user, secret = base64.b64decode(token).decode().split("\0")
                        if (user, secret) == (server.username, server.password):
                            login = user
                            self.reply("235 Authenticated")
                        else:
                            self.reply("535 Authentication failed")
                    elif verb == "MAIL":
                        sender, recipients = command.split(":", 1)[1].strip(" <>"), []
                    elif verb == "RCPT":
                        recipients.append(command.split(":", 1)[1].strip(" <>"))
                        self.reply("250 OK")
                        continue
                    elif verb == "DATA":
                        self.reply("354 End data with <CR><LF>.<CR><LF>")
                        body = b""
                        while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                            body += chunk[1:] if chunk.startswith(b"..") else chunk
                        server.messages.append((sender, recipients, body, login))
                        server.received.set()
                        self.reply("250 Queued")
                        continue
                    elif verb == "QUIT":
                        self.reply("221 Bye")
                        return
                    if verb in ("MAIL", "RSET", "NOOP"):
                        self.reply("250 OK")
                    elif verb not in ("EHLO", "HELO", "AUTH"):
                        self.reply("502 Not implemented")

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> "SmtpServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
