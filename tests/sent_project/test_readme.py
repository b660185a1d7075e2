"""The README's quick start runs: every ```bash and ```python block of the README is executed,
in order, against `manage.py serve` (what `make run` starts) on a fresh database, so an example
that fails fails the build (docs/operations.md#tests-and-ci).

A block not meant to run is marked with `<!-- readme: no-run -->` on the line before it. The
blocks are run as a reader would: the placeholders `sent_…` become the demo API key `serve`
printed and http://127.0.0.1:8000 the address it listens on; shell blocks with `curl` failing
on an HTTP error (`--fail-with-body`), Python blocks one after the other in one interpreter
(the second uses the first one's `client`).
"""

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"(<!-- readme: no-run -->\s*\n)?```(\w+)[^\n]*\n(.*?)```", re.S)
RUNNABLE = {"bash", "sh", "shell", "python"}


def readme_blocks() -> list[tuple[str, str]]:
    text = (ROOT / "README.md").read_text()
    return [
        (language, body)
        for skip, language, body in BLOCK.findall(text)
        if not skip and language in RUNNABLE
    ]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """`manage.py serve` on its own SQLite file and var/ directory; yields (url, api key)."""
    var = tmp_path_factory.mktemp("readme-var")
    port = free_port()
    env = {
        **os.environ,
        "SENT_VAR_DIR": str(var),
        "SQLITE_PATH": str(var / "sent.sqlite3"),
        "DATABASE_URL": "",
        "PORT": str(port),
        "DEBUG": "true",
        # The simulator's lifecycle and the template review ten times faster than by default.
        "SIMULATOR_DELAY_SCALE": "0.1",
    }
    env.pop("SITE_URL", None)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    log = open(var / "serve.log", "w+")  # noqa: SIM115  (closed in the finally below)
    process = subprocess.Popen(
        [sys.executable, "manage.py", "serve"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while "Sent is running" not in (var / "serve.log").read_text():
            assert process.poll() is None, (var / "serve.log").read_text()
            assert time.monotonic() < deadline, (var / "serve.log").read_text()
            time.sleep(0.2)
        key = re.search(r"API key:\s+(\S+)", (var / "serve.log").read_text())[1]
        yield f"http://127.0.0.1:{port}", key, env
    finally:
        os.killpg(process.pid, 2)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait()
        log.close()


def as_reader_would(body: str, url: str, key: str) -> str:
    return body.replace("http://127.0.0.1:8000", url).replace("sent_…", key)


def test_the_readme_has_quick_start_blocks_to_run():
    languages = [language for language, _ in readme_blocks()]
    assert "bash" in languages and "python" in languages, languages


def test_the_readme_quick_start_runs_as_written(served):
    url, key, env = served
    blocks = readme_blocks()
    shell = [as_reader_would(body, url, key) for language, body in blocks if language != "python"]
    python = [as_reader_would(body, url, key) for language, body in blocks if language == "python"]
    env = {k: v for k, v in env.items() if k not in {"PORT", "SENT_VAR_DIR", "SQLITE_PATH"}}
    for body in shell:
        script = 'curl() { command curl --fail-with-body "$@"; }\nset -euo pipefail\n' + body
        done = subprocess.run(
            ["bash", "-c", script], capture_output=True, text=True, timeout=60, env=env
        )
        assert done.returncode == 0, f"{body}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
        assert '"success":false' not in done.stdout.replace(" ", ""), done.stdout
    done = subprocess.run(
        [sys.executable, "-c", "\n\n".join(python)],
        capture_output=True,
        text=True,
        timeout=90,
        cwd=ROOT,
        env=env,
    )
    assert done.returncode == 0, f"--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
    # What the examples' comments promise: a delivered message, an approved template, a send.
    lines = done.stdout.splitlines()
    assert "DELIVERED" in lines, done.stdout
    assert "APPROVED" in lines, done.stdout
    assert any(line.endswith("QUEUED") for line in lines), done.stdout
