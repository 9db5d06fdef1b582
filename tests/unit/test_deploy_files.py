"""docker-compose.yml and deploy/ stay runnable without a Docker engine: what they start exists and fits together."""
import json
import re
from fnmatch import fnmatch
from pathlib import Path

import crossplane
import pytest
import yaml
from celery.app.utils import find_app
from django.conf import settings
from django.core.management import get_commands
from django.utils.module_loading import import_string

from celeryconfig import task_queues

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
COMPOSE_TLS = yaml.safe_load((ROOT / "docker-compose.tls.yml").read_text())["services"]


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
    for copied in re.findall(r"^COPY (dashboard/\S*) ", dockerfile, re.M):
        assert (ROOT / copied).exists() and not dockerignored(copied), copied
    stages = set(re.findall(r"^FROM \S+ AS (\S+)$", dockerfile, re.M))
    for name, service in COMPOSE.items():
        if "build" in service:
            assert (ROOT / service["build"]["context"] / service["build"]["dockerfile"]).is_file()
            assert service["build"]["target"] in stages, name
    for copied in re.findall(r"^COPY (\S+) \S+$", dockerfile, re.M):
        assert (ROOT / copied).exists(), copied
    # Only nginx is published beyond this host; Flower, Prometheus and Grafana answer on 127.0.0.1 only.
    published = {name: s["ports"] for name, s in COMPOSE.items() if s.get("ports")}
    assert all(port.startswith("127.0.0.1:") for name, ports in published.items() if name != "nginx" for port in ports)
    assert "web" not in published and "flower" in published


def test_the_image_is_multi_stage_pinned_non_root_with_a_healthcheck():
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    bases = re.findall(r"^FROM (\S+)", dockerfile, re.M)
    assert bases.count("python:3.11-slim-bookworm") == 2 and all(":" in base or base in {"app"} for base in bases)
    final = dockerfile[dockerfile.rindex("\nFROM "):]
    app_stage = dockerfile[dockerfile.index("AS app"):dockerfile.index("AS browser")]
    assert final.strip() == "FROM app"
    users = re.findall(r"^USER (\S+)$", app_stage, re.M)
    assert users and users[-1].isdigit() and users[-1] != "0"
    assert "HEALTHCHECK" in app_stage and "collectstatic" in dockerfile


def test_workers_are_split_by_what_they_do_and_there_is_one_beat():
    workers = {name: command for name, command in celery_services().items() if "worker" in command}
    queues = {name: set(command[command.index("-Q") + 1].split(",")) for name, command in workers.items()}
    assert queues == {"worker-fetch": {"fetch"}, "worker-cpu": {"parse", "match"}, "worker-io": {"persist", "notify", "alerts"},
                      "worker-browser": {"browser"}}
    fetch = workers["worker-fetch"]
    assert fetch[fetch.index("--pool") + 1] == "threads" and fetch[fetch.index("--concurrency") + 1] == "20"
    assert [name for name, command in celery_services().items() if "beat" in command] == ["beat"]
    assert "deploy" not in COMPOSE["beat"] and "scale" not in COMPOSE["beat"]
    for name in workers:
        env = COMPOSE[name]["environment"]
        assert env["PROMETHEUS_MULTIPROC_DIR"] in COMPOSE[name]["tmpfs"] and env["WORKER_METRICS_PORT"] == "9100"


def test_prometheus_scrapes_every_worker_service_and_the_web_with_an_api_key():
    config = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    workers = {name for name, command in celery_services().items() if "worker" in command}
    discovered = {name for sd in jobs["tge-workers"]["dns_sd_configs"] for name in sd["names"]}
    assert discovered == workers and jobs["tge-workers"]["dns_sd_configs"][0]["port"] == 9100
    assert jobs["tge-web"]["authorization"]["type"] == "Api-Key"
    secret = COMPOSE["prometheus"]["secrets"][0]
    assert jobs["tge-web"]["authorization"]["credentials_file"] == f"/run/secrets/{secret}"
    assert "web" in COMPOSE["web"]["environment"]["ALLOWED_HOSTS"].split(",")


def nginx_tree(tmp_path, server_file: str) -> Path:
    """deploy/nginx laid out as the image lays it out under /etc/nginx (in tmp_path), with ``server_file`` as
    conf.d/tge.conf: the plain-HTTP one or the TLS one docker-compose.tls.yml mounts."""
    source = ROOT / "deploy" / "nginx"
    for path in source.rglob("*.conf"):
        target = tmp_path / path.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(path.read_text().replace("/etc/nginx/", f"{tmp_path}/"))
    (tmp_path / "conf.d" / "tge.conf").write_text((tmp_path / server_file).read_text())
    (tmp_path / "mime.types").write_text("types { text/html html; }\n")
    return tmp_path / "nginx.conf"


@pytest.mark.parametrize("server_file", ["conf.d/tge.conf", "tls/tge.conf"])
def test_the_nginx_configuration_parses_and_proxies_the_web(tmp_path, server_file):
    parsed = crossplane.parse(str(nginx_tree(tmp_path, server_file)), catch_errors=True)
    assert parsed["status"] == "ok", parsed["errors"]
    text = json.dumps(parsed)
    assert "http://web:8000" in text and "/usr/share/nginx/static/" in text
    # Every upstream nginx proxies to is a service of the compose file, on a port it listens on.
    for host, port in re.findall(r"http://([a-z0-9-]+):(\d+)", text):
        assert host in COMPOSE and port in " ".join(map(str, COMPOSE[host].get("expose", []) + COMPOSE[host]["command"]))
    tls = COMPOSE_TLS["nginx"]["volumes"][0].split(":")
    assert (ROOT / tls[0]).samefile(ROOT / "deploy" / "nginx" / "tls" / "tge.conf") and tls[1] == "/etc/nginx/conf.d/tge.conf"


def test_a_broken_nginx_directive_is_caught(tmp_path):
    conf = nginx_tree(tmp_path, "conf.d/tge.conf")
    snippet = tmp_path / "snippets" / "tge-locations.conf"
    snippet.write_text(snippet.read_text().replace("proxy_read_timeout 60s;", "proxy_read_timeout;"))
    assert crossplane.parse(str(conf), catch_errors=True)["status"] == "failed"


def test_every_service_that_needs_the_database_waits_for_migrate_to_complete():
    """Beat exits on missing django_celery_beat tables, the web app answers 500s: each app role starts after the
    one-shot migrate has finished, and migrate after PostgreSQL is healthy."""
    app_roles = {name for name, s in COMPOSE.items() if s.get("build", {}).get("target") in ("app", "browser")
                 and name != "migrate"}
    assert {"web", "worker-fetch", "worker-cpu", "worker-io", "worker-browser", "beat", "flower"} <= app_roles
    for name in app_roles:
        assert COMPOSE[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}, name
    assert COMPOSE["migrate"]["depends_on"]["postgres"] == {"condition": "service_healthy"}
    assert "healthcheck" in COMPOSE["postgres"]
    assert COMPOSE["migrate"]["restart"] == "no"


def test_long_running_services_restart_and_their_dependencies_are_checked_for_health():
    for name, service in COMPOSE.items():
        if name != "migrate":
            assert service["restart"] == "unless-stopped", name
            assert "healthcheck" in service, name
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
    needed = {"manage.py", "celeryconfig.py", "requirements.txt", "deploy/Dockerfile", "pyproject.toml",
              *re.findall(r"^COPY (\S+) \S+$", dockerfile, re.M)} - {"."}
    needed |= {f"{app.split('.')[0]}/__init__.py" for app in settings.INSTALLED_APPS
               if (ROOT / app.split(".")[0] / "__init__.py").is_file()}
    needed |= {str(f.relative_to(ROOT)) for f in (ROOT / "tgesweeper").rglob("*") if f.suffix in (".yaml", ".yml", ".xml",
               ".json", ".html") and "__pycache__" not in f.parts}
    assert {"api/__init__.py", "workers/__init__.py", "tgesweeper/__init__.py"} <= needed
    assert not [path for path in sorted(needed) if dockerignored(path)]
