"""Every command in the `sh` blocks of docs/operations.md and docs/deployment.md is one this project can run as
written: manage.py commands and their options parse (and a named migration exists), celery subcommands and queues
exist, make targets exist, scripts exist (their own tests run them), and docker compose / kubectl lines name only
files, services and objects that the compose file and the Kubernetes base declare. (No Docker engine or cluster
here: those two are checked against the files, not run.) The alerts' runbook links lead to headings that exist."""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml
from celery.app.control import Inspect
from django.core.management import CommandError, get_commands, load_command_class
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.utils.module_loading import import_string

from celeryconfig import task_queues
from tgesweeper.config import VARIABLES

ROOT = Path(__file__).resolve().parents[2]
DOCS = ("docs/operations.md", "docs/deployment.md")
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
K8S_BASE = ROOT / "deploy" / "k8s" / "base"
K8S = {(doc["kind"], doc["metadata"]["name"]) for path in K8S_BASE.glob("*.yaml") if path.name != "kustomization.yaml"
       for doc in yaml.safe_load_all(path.read_text()) if doc}
K8S_KINDS = {"deployment": "Deployment", "hpa": "HorizontalPodAutoscaler", "job": "Job", "statefulset": "StatefulSet"}
NAMESPACE = "tge-sweeper"
MAKE_TARGETS = set(re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text(), re.M))


def doc_commands() -> list[tuple[str, str]]:
    found = []
    for doc in DOCS:
        for block in re.findall(r"```sh\n(.*?)```", (ROOT / doc).read_text(), re.S):
            found += [(doc, line) for line in block.splitlines() if line.strip()]
    return found


def words(line: str) -> list[str]:
    """The command's words, without trailing comments, environment assignments, redirections and pipes."""
    tokens = shlex.split(line, comments=True)
    while tokens and re.match(r"^[A-Z_]+=", tokens[0]):
        tokens.pop(0)
    for stop in (">", "|", "&&"):
        if stop in tokens:
            tokens = tokens[:tokens.index(stop)]
    return tokens


def check_manage(args: list[str]) -> None:
    name, rest = args[0], args[1:]
    command = load_command_class(get_commands()[name], name)
    parsed = command.create_parser("manage.py", name).parse_args(rest)
    if name == "migrate" and getattr(parsed, "migration_name", None):
        MigrationLoader(connection, ignore_no_migrations=True).get_migration_by_prefix(parsed.app_label,
                                                                                       parsed.migration_name)


def check_python(args: list[str]) -> None:
    assert args[0] == "manage.py", args
    check_manage(args[1:])


def check_celery(args: list[str]) -> None:
    assert args[:2] == ["-A", "tgesweeper"], args
    sub = args[2]
    assert sub in {"worker", "beat", "inspect", "control", "flower", "purge", "status", "events"}, sub
    if sub == "worker" and "-Q" in args:
        assert set(args[args.index("-Q") + 1].split(",")) <= {q.name for q in task_queues}
    if sub == "inspect":
        assert callable(getattr(Inspect, args[3], None)), args[3]


def check_compose(args: list[str]) -> None:
    while args[0] == "-f":
        assert (ROOT / args[1]).is_file(), args[1]
        args = args[2:]
    sub, rest = args[0], args[1:]
    assert sub in {"build", "up", "run", "exec", "ps", "logs", "restart", "stop", "down", "pull"}, sub
    services: list[str] = []
    while rest:
        word = rest.pop(0)
        if word == "--scale":
            services.append(rest.pop(0).split("=")[0])
        elif word.startswith("-"):
            continue
        elif sub in {"run", "exec"}:
            services.append(word)
            if rest[:2] == ["python", "manage.py"]:
                check_manage(rest[2:])
            break
        else:
            services.append(word)
    assert set(services) <= set(COMPOSE), services


def check_kubectl(args: list[str]) -> None:
    if args[0] == "-n":
        assert args[1] == NAMESPACE
        args = args[2:]
    verb, rest = args[0], args[1:]
    if verb == "apply":
        flag, path = rest[0], rest[1]
        assert (ROOT / path).is_file() if flag == "-f" else (ROOT / path / "kustomization.yaml").is_file(), path
        return
    if verb == "create":
        assert rest[:3] == ["secret", "generic", "tge-secrets"]
        references = " ".join(p.read_text() for p in K8S_BASE.glob("*.yaml"))
        assert "name: tge-secrets" in references
        return
    if verb in {"rollout"}:
        assert rest[0] in {"restart", "undo", "status"}
        rest = rest[1:]
    elif verb == "delete":
        assert ("Job", rest[1]) in K8S and K8S_KINDS[rest[0]] == "Job"
        return
    else:
        assert verb in {"scale", "patch", "exec"}, verb
    for word in rest:
        if word == "--":
            command = rest[rest.index("--") + 1:]
            assert command[:2] == ["python", "manage.py"]
            check_manage(command[2:])
            return
        if "/" in word and not word.startswith("-"):
            kind, name = word.split("/")
            assert (K8S_KINDS[kind], name) in K8S, word


def check_script(program: str, args: list[str]) -> None:
    script = ROOT / program
    assert script.is_file() and script.stat().st_mode & 0o111, program
    assert f"  {args[0]})" in script.read_text(), args


def check(line: str) -> None:
    if line.startswith("export "):
        names = {v.name for v in VARIABLES}
        assert all(word.split("=")[0] in names for word in shlex.split(line)[1:]), line
        return
    tokens = words(line)
    program, args = tokens[0], tokens[1:]
    if program in {".venv/bin/python", "python"}:
        check_python(args)
    elif program == ".venv/bin/celery":
        check_celery(args)
    elif program == ".venv/bin/gunicorn":
        assert callable(import_string(f"{args[0]}.application"))
    elif program == ".venv/bin/uvicorn":
        assert callable(import_string(args[0].replace(":", ".")))
    elif program == "make":
        assert args[0] in MAKE_TARGETS, args
    elif program == "docker":
        assert args[0] == "compose"
        check_compose(args[1:])
    elif program == "kubectl":
        check_kubectl(args)
    elif program.startswith("deploy/scripts/"):
        check_script(program, args)
    elif program == "touch":
        assert (ROOT / args[0]).parent.is_dir(), args
    else:
        raise AssertionError(f"no check for {program!r}: add one, or leave the command out of the docs")


@pytest.mark.django_db
@pytest.mark.parametrize("doc, line", doc_commands(), ids=lambda value: value[:60])
def test_each_documented_command_is_one_this_project_runs(doc, line):
    check(line)


@pytest.mark.parametrize("line", [
    ".venv/bin/python manage.py prune --weeks 3",
    ".venv/bin/python manage.py migrate api 0999",
    "docker compose up -d worker",
    "kubectl -n tge-sweeper scale deployment/worker --replicas=2",
    ".venv/bin/celery -A tgesweeper inspect everything",
    "systemctl restart tge",
])
@pytest.mark.django_db
def test_a_wrong_command_is_caught(line):
    with pytest.raises((AssertionError, CommandError, KeyError)):
        check(line)


def anchor(heading: str) -> str:
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_every_alerts_runbook_link_leads_to_a_heading():
    headings = {anchor(h) for h in re.findall(r"^#+ (.+)$", (ROOT / "docs" / "operations.md").read_text(), re.M)}
    rules = yaml.safe_load((ROOT / "deploy" / "prometheus" / "alerts.yml").read_text())["groups"][0]["rules"]
    for rule in rules:
        page, _, target = rule["annotations"]["runbook"].partition("#")
        assert page == "docs/operations.md" and target in headings, rule["alert"]
