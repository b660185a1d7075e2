"""requirements.lock matches pyproject.toml: every dependency pyproject.toml declares (the
runtime ones and the `dev` extra) is pinned in the lock, at a version its specifier accepts, so a
dependency added to pyproject.toml without `make lock` fails here
(docs/operations.md#dependencies-and-the-lock-file).

Plain file reads, no network, no database.
"""

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;]+)")


def locked(name: str = "requirements.lock") -> dict[str, list[Version]]:
    pins: dict[str, list[Version]] = {}
    for line in (ROOT / name).read_text().splitlines():
        if match := PIN.match(line):
            pins.setdefault(canonicalize_name(match[1]), []).append(Version(match[2]))
    return pins


def declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [
        Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"]
    ]


def test_every_declared_dependency_is_pinned_in_the_lock_at_an_accepted_version():
    pins = locked()
    problems = []
    for requirement in declared():
        name = canonicalize_name(requirement.name)
        versions = pins.get(name)
        if not versions:
            # A marker that excludes every Python the project supports would not be locked;
            # none of ours does, so a missing name is a lock that was not regenerated.
            problems.append(f"{requirement} is not in requirements.lock")
        elif not any(requirement.specifier.contains(v, prereleases=True) for v in versions):
            problems.append(f"{requirement}: the lock pins {', '.join(map(str, versions))}")
    assert not problems, (
        "run `make lock` (docs/operations.md#dependencies-and-the-lock-file):\n"
        + "\n".join(problems)
    )


def test_the_lock_pins_exact_versions_only():
    lines = [
        line
        for line in (ROOT / "requirements.lock").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert lines and all(PIN.match(line) for line in lines), [
        line for line in lines if not PIN.match(line)
    ]


def test_the_installed_packages_are_the_locked_ones():
    """The venv is what `make install` made from the lock (a package pinned in the lock at one
    version and installed at another means the lock was edited by hand or not installed)."""
    from importlib.metadata import PackageNotFoundError, version

    pins = locked()
    wrong = []
    for requirement in declared():
        if requirement.marker and not requirement.marker.evaluate():
            continue
        name = canonicalize_name(requirement.name)
        try:
            installed = Version(version(name))
        except PackageNotFoundError:
            wrong.append(f"{name} is not installed")
            continue
        if pins.get(name) and installed not in pins[name]:
            wrong.append(f"{name}: installed {installed}, locked {pins[name]}")
    assert not wrong, "run `make install`:\n" + "\n".join(wrong)


def test_the_run_lock_is_the_runtime_part_of_the_lock_at_the_same_versions():
    """`make run` installs requirements-run.lock: every runtime dependency, none of the test
    tools, each at the version requirements.lock pins (`make lock` writes both)."""
    full, run = locked(), locked("requirements-run.lock")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = {canonicalize_name(Requirement(r).name) for r in project["dependencies"]}
    assert runtime <= run.keys(), f"run `make lock`: {sorted(runtime - run.keys())} missing"
    differing = {name: (run[name], full.get(name)) for name in run if run[name] != full.get(name)}
    assert not differing, f"run `make lock`: {differing}"
    assert "pytest" not in run and "playwright" not in run
