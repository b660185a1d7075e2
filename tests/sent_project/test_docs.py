"""The repository documents itself: code and tests cite pages of docs/ (and the README),
never documents kept outside the repository, and every cited page and anchor exists.

Plain file reads, no database: fast enough to run on every change.
"""

import os
import re
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
THIS_FILE = Path(__file__).resolve()

PRUNED_DIRS = {".venv", "var", ".git", "__pycache__", "node_modules", "artifacts", "docs"}
SCANNED_SUFFIXES = {".py", ".html", ".toml"}

# Citations of documents that are not part of the repository. RELIABILITY is matched in capitals
# only, so docs/reliability.md itself is fine; the brackets keep this pattern from being a
# citation itself.
OUTSIDE_DOCUMENTS = re.compile(
    r"API[_]CONTRACT|RELIABILITY\.md|RELIABILITY[ ]scenario|RELIABILITY \d|STYLE\.md|\.\./shared"
    r"|\b[Ii]ssues? \d+"
    # The SDK's wire format as an outside text ("the contract's fallback chain"), and README
    # sections that moved to docs/.
    r"|\b[Tt]he contract(?:'s)? (?!in pyproject)|\bcontract §|README, section"
)
DOCS_CITATION = re.compile(r"\bdocs/[\w./-]+\.md(?:#[\w-]+)?")
MARKDOWN_LINK = re.compile(r"\]\(([^)\s]+)\)")


def scanned_files() -> list[Path]:
    """Source files outside docs/ and the README: *.py, *.html, *.toml, the Makefile, .ci/*."""
    found = []
    for directory, subdirectories, files in os.walk(ROOT):
        subdirectories[:] = [
            d for d in subdirectories if d not in PRUNED_DIRS and not d.endswith(".egg-info")
        ]
        base = Path(directory)
        for name in files:
            path = base / name
            if (
                path.suffix in SCANNED_SUFFIXES or name == "Makefile" or base == ROOT / ".ci"
            ) and path.resolve() != THIS_FILE:
                found.append(path)
    return found


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


@cache
def anchors(page: Path) -> frozenset[str]:
    """The anchors of a Markdown page's headings (not of `#` lines inside code blocks)."""
    seen: dict[str, int] = {}
    in_code = False
    for line in page.read_text().splitlines():
        if line.lstrip().startswith("```"):
            in_code = not in_code
            continue
        match = re.match(r"#{1,6} +(.+?) *#*$", line)
        if in_code or not match:
            continue
        anchor = slug(match.group(1))
        count = seen.get(anchor, 0)
        seen[anchor] = count + 1
        if count:
            seen[f"{anchor}-{count}"] = 1
    return frozenset(seen)


def broken(target: Path, anchor: str | None) -> str | None:
    """Why a cited page (and anchor) doesn't resolve, or None when it does."""
    if not target.is_file():
        return "no such page"
    if anchor and anchor not in anchors(target):
        return f"no heading with the anchor #{anchor}"
    return None


def test_no_file_cites_a_document_outside_the_repository():
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in scanned_files()
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
        if OUTSIDE_DOCUMENTS.search(line)
    ]
    assert not offenders, "cite the docs/ page that holds the fact instead:\n" + "\n".join(
        offenders
    )


def test_every_docs_page_and_anchor_cited_from_code_tests_and_readme_exists():
    citing = [*scanned_files(), ROOT / "README.md"]
    problems = []
    for path in citing:
        for citation in DOCS_CITATION.findall(path.read_text(errors="replace")):
            page, _, anchor = citation.partition("#")
            problem = broken(ROOT / page, anchor or None)
            if problem:
                problems.append(f"{path.relative_to(ROOT)}: {citation}: {problem}")
    assert not problems, "\n".join(problems)


def test_every_relative_link_of_the_readme_and_the_docs_pages_resolves():
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    problems = []
    for page in pages:
        for link in MARKDOWN_LINK.findall(page.read_text()):
            if re.match(r"[a-z]+:", link):  # http:, https:, mailto:
                continue
            target, _, anchor = link.partition("#")
            resolved = (page.parent / target).resolve() if target else page
            if resolved.is_dir():
                continue
            problem = broken(resolved, anchor or None)
            if problem:
                problems.append(f"{page.relative_to(ROOT)}: {link}: {problem}")
    assert not problems, "\n".join(problems)


def test_the_readme_is_a_front_page():
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= 160, f"README.md has {len(lines)} lines: move the details into docs/"


def test_slugs_are_githubs():
    assert slug("8. Recovery after a killed worker") == "8-recovery-after-a-killed-worker"
    assert slug("Sending — `POST /v3/messages`") == "sending--post-v3messages"
    assert slug("Receivers' answers are respected") == "receivers-answers-are-respected"
    assert slug("For other apps (Python)") == "for-other-apps-python"
