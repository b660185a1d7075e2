"""The apps' one-way layers and HTTP-free domain code (docs/architecture.md#checked-by-ci): the
import-linter contracts in pyproject.toml hold on this tree, and an upward import, or a domain
module importing the HTTP layer, breaks one with a message naming the import."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPS = ["sent_project", "billing", "contacts", "templates_app", "messaging"]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(tree: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(tree / "pyproject.toml")],
        cwd=tree,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def tree_copy(tmp_path) -> Path:
    """The five apps and pyproject.toml, copied (sources only) to a scratch directory."""
    for app in APPS:
        shutil.copytree(
            ROOT / app,
            tmp_path / app,
            ignore=shutil.ignore_patterns("__pycache__", "templates", "migrations", "*.html"),
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_tree_keeps_the_layers_contract():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "named"),
    [
        ("billing/services.py", "from messaging import models", "billing.services -> messaging"),
        ("sent_project/errors.py", "import billing.models", "sent_project.errors -> billing"),
        (
            "contacts/services.py",
            "from templates_app.selectors import templates_for",
            "contacts.services -> templates_app.selectors",
        ),
        (
            "contacts/tasks.py",
            "from sent_project.api import envelope",
            "contacts.tasks -> sent_project.api.envelope",
        ),
        ("billing/services.py", "import rest_framework", "billing.services -> rest_framework"),
    ],
    ids=[
        "billing-to-messaging",
        "plumbing-to-billing",
        "contacts-to-templates",
        "domain-to-api",
        "domain-to-drf",
    ],
)
def test_an_upward_sideways_or_http_import_breaks_a_contract(tree_copy, module, line, named):
    path = tree_copy / module
    path.write_text(path.read_text() + f"\n{line}  # noqa\n")
    result = lint_imports(tree_copy)
    assert result.returncode != 0
    assert "BROKEN" in result.stdout and named in result.stdout, result.stdout
