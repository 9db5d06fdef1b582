"""docker-compose.yml and deploy/ stay runnable without a Docker engine: what they start exists and fits together."""
import json
import re
from fnmatch import fnmatch
from pathlib import Path

import yaml
from celery.app.utils import find_app
from django.conf import settings
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


def test_the_image_serves_the_asgi_app_compose_runs_and_builds_every_role():
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    cmd = json.loads(re.search(r"^CMD (\[.*\])$", dockerfile, re.M).group(1))
    assert cmd == COMPOSE["web"]["command"]
    assert cmd[:2] == ["uvicorn", "tgesweeper.asgi:application"]
    assert callable(import_string(cmd[1].replace(":", ".")))
    assert "COPY --from=dashboard /dashboard/dist dashboard/dist" in dockerfile  # the dashboard built in the image
    for role in ("web", "worker", "beat", "flower"):
        assert (ROOT / COMPOSE[role]["build"]["context"] / COMPOSE[role]["build"]["dockerfile"]).is_file()
    for copied in re.findall(r"^COPY (\S+) \.$", dockerfile, re.M):
        assert (ROOT / copied).exists(), copied
    for copied in re.findall(r"^COPY (dashboard/\S*) ", dockerfile, re.M):
        assert (ROOT / copied).exists() and not dockerignored(copied), copied
    assert all(port.startswith("127.0.0.1:") for s in COMPOSE.values() for port in s.get("ports", []))


def test_every_service_that_needs_the_database_waits_for_migrate_to_complete():
    """Beat exits on missing django_celery_beat tables, the web app answers 500s: each app role starts after the
    one-shot migrate has finished, and migrate after PostgreSQL is healthy."""
    app_roles = {name for name, s in COMPOSE.items() if "build" in s and name != "migrate"}
    assert {"web", "worker", "beat", "flower"} <= app_roles
    for name in app_roles:
        assert COMPOSE[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}, name
    assert COMPOSE["migrate"]["depends_on"]["postgres"] == {"condition": "service_healthy"}
    assert "healthcheck" in COMPOSE["postgres"]
    assert COMPOSE["migrate"]["restart"] == "no"


def test_long_running_services_restart_and_their_dependencies_are_checked_for_health():
    for name, service in COMPOSE.items():
        if name != "migrate":
            assert service["restart"] == "unless-stopped", name
        for dependency, how in service.get("depends_on", {}).items():
            if how["condition"] == "service_healthy":
                assert "healthcheck" in COMPOSE[dependency], dependency
    probe = " ".join(COMPOSE["web"]["healthcheck"]["test"])
    assert "/health/live" in probe and "curl" not in probe


def dockerignored(path: str) -> bool:
    """Docker's rule for the patterns used here: root-relative globs, ``**/`` at any depth, the last match wins."""
    ignored = False
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        pattern = line.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negated, pattern = pattern.startswith("!"), pattern.lstrip("!")
        parts = path.split("/")
        prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
        if pattern.startswith("**/"):
            hit = any(fnmatch(part, pattern[3:]) for part in parts)
        else:
            hit = any(fnmatch(prefix, pattern) for prefix in prefixes)
        if hit:
            ignored = not negated
    return ignored


def test_the_build_context_leaves_out_local_state_and_keeps_what_the_image_runs():
    for heavy in (".git", ".venv/bin/python", "var/tgesweeper.sqlite3", "api/__pycache__/models.cpython-311.pyc",
                  "dashboard/node_modules/x/index.js",
                  "dashboard/dist/index.html", ".schemathesis/report", ".pytest_cache/v", "tests/unit/x.py"):
        assert dockerignored(heavy), heavy
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    needed = {"manage.py", "celeryconfig.py", "requirements.txt", "deploy/Dockerfile",
              *re.findall(r"^COPY (\S+) \.$", dockerfile, re.M)} - {"."}
    needed |= {f"{app.split('.')[0]}/__init__.py" for app in settings.INSTALLED_APPS
               if (ROOT / app.split(".")[0] / "__init__.py").is_file()}
    needed |= {str(f.relative_to(ROOT)) for f in (ROOT / "tgesweeper").rglob("*") if f.suffix in (".yaml", ".yml", ".xml",
               ".json", ".html") and "__pycache__" not in f.parts}
    assert {"api/__init__.py", "workers/__init__.py", "tgesweeper/__init__.py"} <= needed
    assert not [path for path in sorted(needed) if dockerignored(path)]
