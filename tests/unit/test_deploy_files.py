"""docker-compose.yml and deploy/ stay runnable without a Docker engine: what they start exists and fits together."""
import json
import re
from pathlib import Path

import yaml
from celery.app.utils import find_app
from django.core.management import get_commands
from django.utils.module_loading import import_string

from celeryconfig import task_queues

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]


def celery_services() -> dict[str, list[str]]:
    return {name: s["command"] for name, s in COMPOSE.items()
            if isinstance(s.get("command"), list) and s["command"][:1] == ["celery"]}


def test_every_declared_queue_is_consumed_by_a_compose_worker_and_no_other_queue_is():
    consumed = set()
    for command in celery_services().values():
        app = find_app(command[command.index("-A") + 1])
        assert app.main == "tgesweeper"
        if "worker" in command:
            consumed |= set(command[command.index("-Q") + 1].split(","))
    assert consumed == {queue.name for queue in task_queues}


def test_the_management_commands_compose_runs_exist():
    commands = get_commands()
    for service in COMPOSE.values():
        for name in re.findall(r"manage\.py (\w+)", " ".join(map(str, service.get("command") or []))):
            assert name in commands, name


def test_the_image_serves_the_wsgi_app_compose_runs_and_builds_every_role():
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    cmd = json.loads(re.search(r"^CMD (\[.*\])$", dockerfile, re.M).group(1))
    assert cmd == COMPOSE["web"]["command"]
    assert callable(import_string(f"{cmd[1]}.application"))
    for role in ("web", "worker", "beat", "flower"):
        assert (ROOT / COMPOSE[role]["build"]["context"] / COMPOSE[role]["build"]["dockerfile"]).is_file()
    for copied in re.findall(r"^COPY (\S+) \.$", dockerfile, re.M):
        assert (ROOT / copied).exists(), copied
    assert all(port.startswith("127.0.0.1:") for s in COMPOSE.values() for port in s.get("ports", []))
