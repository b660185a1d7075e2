"""The deploy files, checked statically (docs/operations.md#deploy): Docker isn't available
on these machines. The commands they run exist and accept their arguments, the variables they
set are settings we read, the ports line up, and the workers cover every lane."""

import re
import shlex
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml

from django.conf import settings as django_settings
from django.core.management import get_commands, load_command_class

from sent_project import lanes

ROOT = Path(django_settings.BASE_DIR)
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text())
DOCKERFILE = (ROOT / "Dockerfile").read_text()
SYSTEMD = {path.name: path.read_text() for path in (ROOT / "deploy" / "systemd").glob("*")}
SETTINGS_SOURCE = (ROOT / "sent_project" / "settings.py").read_text()
GUNICORN_CONF = (ROOT / "deploy" / "gunicorn.conf.py").read_text()
# Read by the libraries or the gunicorn configuration, not by settings.py.
OTHER_VARIABLES = {"PROMETHEUS_MULTIPROC_DIR", "PORT", "WEB_CONCURRENCY"}


def is_setting(name: str) -> bool:
    return bool(re.search(rf'env_\w+\(\s*"{name}"', SETTINGS_SOURCE)) or name in OTHER_VARIABLES


def sent_services() -> dict:
    return {name: s for name, s in COMPOSE["services"].items() if s.get("image") == "sent:latest"}


def manage_commands() -> list[list[str]]:
    """Every `manage.py …` invocation of the deploy files, as argument lists."""
    found = []
    for service in sent_services().values():
        command = service.get("command") or []
        if command[:2] == ["sh", "-c"]:
            for part in command[2].split("&&"):
                found.append(shlex.split(part))
        else:
            found.append(command)
    for text in [*SYSTEMD.values(), DOCKERFILE]:
        for match in re.finditer(r"python manage\.py ([^\n\\&]+)", text):
            found.append(["python", "manage.py", *shlex.split(match.group(1))])
    return [c[c.index("manage.py") + 1 :] for c in found if "manage.py" in c]


@pytest.mark.parametrize("command", manage_commands(), ids=lambda c: " ".join(c))
def test_every_management_command_exists_and_accepts_its_arguments(command):
    name, *arguments = command
    arguments = [a.replace("%i", "dispatch") for a in arguments]
    commands = get_commands()
    assert name in commands, f"no manage.py {name}"
    parser = load_command_class(commands[name], name).create_parser("manage.py", name)
    parser.parse_args(arguments)  # exits (fails the test) on an unknown option


def test_the_web_runs_gunicorn_with_our_configuration_on_the_exposed_port():
    web = COMPOSE["services"]["web"]
    assert web["command"] == ["gunicorn", "-c", "deploy/gunicorn.conf.py", "sent_project.wsgi"]
    assert 'CMD ["gunicorn", "-c", "deploy/gunicorn.conf.py", "sent_project.wsgi"]' in DOCKERFILE
    port = web["environment"]["PORT"]
    assert web["ports"] == [f"{port}:{port}"]
    assert f"EXPOSE {port}" in DOCKERFILE and f"PORT={port}" in DOCKERFILE
    assert "os.environ.get('PORT'" in GUNICORN_CONF  # gunicorn binds to PORT
    assert (ROOT / "sent_project" / "wsgi.py").exists()
    assert "gunicorn -c deploy/gunicorn.conf.py sent_project.wsgi" in SYSTEMD["sent-web.service"]


def test_the_image_runs_as_a_user_and_collects_static_files_at_build():
    user = re.findall(r"^USER (\S+)", DOCKERFILE, re.M)
    assert user and user[-1] not in ("root", "0")
    assert "collectstatic --noinput" in DOCKERFILE
    assert all("User=sent" in text for name, text in SYSTEMD.items() if name.endswith(".service"))


def test_the_variables_they_set_are_settings_we_read():
    names = set()
    for service in sent_services().values():
        names |= set(service.get("environment", {}))
    # The image's ENV block (Python's and pip's own variables aside).
    env_block = DOCKERFILE.split("\nENV ", 1)[1].split("\n\n", 1)[0]
    names |= {n for n in re.findall(r"(\w+)=", env_block) if not n.startswith(("PYTHON", "PIP_"))}
    example = (ROOT / "deploy" / "systemd" / "sent.env.example").read_text()
    names |= set(re.findall(r"^(\w+)=", example, re.M))
    for text in SYSTEMD.values():
        names |= set(re.findall(r"^Environment=(\w+)=", text, re.M))
    names.discard("")
    unknown = sorted(name for name in names if not is_setting(name))
    assert unknown == [], f"not settings: {unknown}"


def test_the_urls_point_at_services_of_the_file():
    environment = COMPOSE["services"]["web"]["environment"]
    database = urlparse(environment["DATABASE_URL"])
    postgres = COMPOSE["services"][database.hostname]["environment"]
    assert database.port == 5432
    assert (database.username, database.password, database.path.lstrip("/")) == (
        postgres["POSTGRES_USER"],
        postgres["POSTGRES_PASSWORD"],
        postgres["POSTGRES_DB"],
    )
    assert urlparse(environment["REDIS_URL"]).hostname in COMPOSE["services"]


def test_a_worker_per_lane_set_and_the_sweep_after_a_one_shot_migrate():
    queues = []
    for name, service in sent_services().items():
        command = service.get("command") or []
        if "db_worker" in command:
            queues.append(command[command.index("--queue-name") + 1])
        if name != "migrate":
            assert service["depends_on"]["migrate"]["condition"] == (
                "service_completed_successfully"
            )
    assert sorted(queues) == sorted(set(lanes.worker_queues()))
    assert {lane for q in queues for lane in q.split(",")} == set(lanes.ALL)
    assert COMPOSE["services"]["migrate"]["restart"] == "no"
    assert any("webhooks_sweep" in (s.get("command") or []) for s in sent_services().values())
    worker_unit = SYSTEMD["sent-worker@.service"]
    for queue in set(lanes.worker_queues()):
        assert f"sent-worker@{queue}" in worker_unit
