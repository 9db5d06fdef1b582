"""The domain core (sources, matching, net, circuit, polling) runs without Django, Celery or the app's packages."""
import ast
import subprocess
import sys
from pathlib import Path

import tgesweeper

ROOT = Path(tgesweeper.__file__).resolve().parent.parent
CORE = ("tgesweeper.sources", "tgesweeper.matching", "tgesweeper.net", "tgesweeper.circuit", "tgesweeper.polling")
FORBIDDEN = ("django", "celery", "kombu", "api", "workers", "celeryconfig", "tgesweeper.celery", "tgesweeper.settings")


def test_importing_the_core_and_every_source_kind_loads_neither_django_nor_celery():
    probe = f"""
import importlib, pkgutil, sys
import tgesweeper.sources, tgesweeper.matching
modules = [*{CORE!r}]
for package in (tgesweeper.sources, tgesweeper.matching):
    modules += [f"{{package.__name__}}.{{info.name}}" for info in pkgutil.iter_modules(package.__path__)]
for name in modules:
    importlib.import_module(name)
print(sorted({{m for m in sys.modules for f in {FORBIDDEN!r} if m == f or m.startswith(f + ".")}}))
"""
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_no_core_module_imports_django_or_celery_even_inside_a_function():
    """A function-local import would load Django at fetch time, out of sight of the import test above."""
    files = [ROOT / "tgesweeper" / f"{name}.py" for name in ("net", "circuit", "polling")]
    files += [*(ROOT / "tgesweeper" / "sources").glob("*.py"), *(ROOT / "tgesweeper" / "matching").glob("*.py")]
    found = []
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            found += [f"{path.relative_to(ROOT)}:{node.lineno} {name}" for name in names
                      if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)]
    assert len(files) > 20
    assert found == []


def test_a_django_process_still_has_the_celery_app_as_its_current_app():
    """django-celery-beat's admin lists and runs tasks through Celery's current app: Django loads ours (workers app)."""
    probe = ("from celery import current_app; current_app.loader.import_default_modules(); "  # as that admin does
             "print(current_app.main, 'workers.tasks.fetch_source' in current_app.tasks)")
    done = subprocess.run([sys.executable, "manage.py", "shell", "-c", probe], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1].split() == ["tgesweeper", "True"]


def imports_of(paths) -> list[tuple[str, str]]:
    """(file:line, imported module) of every import statement in these files, function-local ones included."""
    found = []
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
            found += [(f"{path.relative_to(ROOT)}:{node.lineno}", name) for name in names]
    return found


def product_files():
    for top in ("api", "workers", "tgesweeper"):
        for path in (ROOT / top).rglob("*.py"):
            if "bench" not in path.relative_to(ROOT).parts and "migrations" not in path.parts:
                yield path


def test_the_web_app_reaches_the_pipeline_only_through_workers_enqueue():
    """Sweep now and requeue are all the app asks of the pipeline; the rest flows from the pipeline to the store."""
    found = [(where, name) for where, name in imports_of((ROOT / "api").rglob("*.py"))
             if name == "workers" or name.startswith("workers.")]
    assert found and {name for _, name in found} == {"workers"}  # as `from workers import enqueue`
    for path in (ROOT / "api").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "workers":
                assert [a.name for a in node.names] == ["enqueue"], f"{path.relative_to(ROOT)}:{node.lineno}"


def test_the_running_sweeper_never_imports_the_harness():
    found = [f"{where} {name}" for where, name in imports_of(product_files())
             if name == "tgesweeper.bench" or name.startswith("tgesweeper.bench.")]
    assert found == []
