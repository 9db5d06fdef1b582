"""The README's commands: `make run` starts web, worker and beat and stops on Ctrl-C; `make demo` finds events."""
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tgesweeper.bench.local_process import ROOT, free_port

pytestmark = pytest.mark.services

BIN = Path(sys.executable).parent


def embedded_env(tmp_path, **extra) -> dict[str, str]:
    """A newcomer's machine: no DATABASE_URL or REDIS_URL, everything under one fresh var dir."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"}}
    env.update(TGE_VAR_DIR=str(tmp_path / "var"), PATH=f"{BIN}:{env.get('PATH', '')}", APP_ENV="development", **extra)
    return env


def manage(env, *args, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)


# What `make run`'s web server answers on the same configuration: the published events, read through the API.
SERVED_EVENTS = ("import json; from django.test import Client; "
                 "print(json.dumps(Client(HTTP_HOST='127.0.0.1').get('/api/v1/tge-events').json()['results']))")


def test_make_demo_sweeps_into_the_database_make_run_serves_and_stores_no_throwaway_port(tmp_path):
    env = embedded_env(tmp_path)
    # `-o install`: the venv is the one running this test; the recipe itself (migrate, then demo) runs as written.
    result = subprocess.run(["make", "-o", "install", "demo", f"PY={sys.executable}"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Quillstone Network" in result.stdout and "QSN" in result.stdout
    assert "Ferrowind" in result.stdout
    assert "Marrowfield" not in result.stdout  # a rumor, not a launch
    port = re.search(r"demo feeds at http://127\.0\.0\.1:(\d+)/", result.stdout).group(1)

    served = manage({**env, "API_PUBLIC_READ": "true"}, "shell", "-c", SERVED_EVENTS)
    assert served.returncode == 0, served.stderr
    events = {e["project"]: e for e in json.loads(served.stdout.strip().splitlines()[-1])}
    assert {"Quillstone Network", "Ferrowind"} <= set(events) and "Marrowfield Labs" not in events

    database = sqlite3.connect(tmp_path / "var" / "tgesweeper.sqlite3")
    try:
        assert database.execute("SELECT name, url, enabled FROM api_source ORDER BY name").fetchall() == [
            ("demo: chain-ledger", "https://demo.invalid/chain-ledger.xml", 0),
            ("demo: exchange-notices", "https://demo.invalid/exchange-notices.xml", 0),
            ("demo: token-wire", "https://demo.invalid/token-wire.xml", 0)]
        links = [url for (url,) in database.execute("SELECT url FROM api_document")]
        assert len(links) == 10 and all(url.startswith("https://demo.invalid/") for url in links)
        everything = "\n".join(database.iterdump())
    finally:
        database.close()
    assert f":{port}" not in everything and "127.0.0.1" not in everything


def test_run_starts_web_worker_and_beat_and_ctrl_c_stops_them(tmp_path):
    port = free_port()
    env = embedded_env(tmp_path, WEB_PORT=str(port))
    assert manage(env, "migrate", "--noinput", "-v", "0").returncode == 0
    log = tmp_path / "run.log"
    with log.open("wb") as out:
        honcho = subprocess.Popen([str(BIN / "honcho"), "-f", "Procfile", "start"], cwd=ROOT, env=env, stdout=out,
                                  stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        web_ok = False
        while time.monotonic() < deadline:
            text = log.read_text(errors="replace")
            if not web_ok:
                try:
                    web_ok = urllib.request.urlopen(f"http://127.0.0.1:{port}/health/live", timeout=2).status == 200
                except OSError:
                    pass
            if web_ok and "ready." in text and "beat: Starting" in text and "push consumer ready:" in text:
                break
            time.sleep(0.5)
        text = log.read_text(errors="replace")
        assert web_ok, text[-3000:]
        assert "ready." in text and "beat: Starting" in text and "push consumer ready:" in text, text[-3000:]

        honcho.send_signal(signal.SIGINT)
        assert honcho.wait(45) is not None
    finally:
        if honcho.poll() is None:
            os.killpg(honcho.pid, signal.SIGKILL)
    leftovers = subprocess.run(["pgrep", "-s", str(honcho.pid)], capture_output=True, text=True).stdout.split()
    assert leftovers == [], f"processes left running: {leftovers}"
