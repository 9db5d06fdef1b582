"""The README's commands: `make run` starts web, worker and beat and stops on Ctrl-C; `make demo` finds events."""
import os
import signal
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


def test_demo_sweeps_the_sample_feeds_and_prints_the_events(tmp_path):
    env = embedded_env(tmp_path, SCRAPING_ALLOW_PRIVATE_NETWORKS="true")
    assert manage(env, "migrate", "--noinput", "-v", "0").returncode == 0
    result = manage(env, "demo")
    assert result.returncode == 0, result.stderr
    assert "Quillstone Network" in result.stdout and "QSN" in result.stdout
    assert "Ferrowind" in result.stdout
    assert "Marrowfield" not in result.stdout  # a rumor, not a launch


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
            if web_ok and "ready." in text and "beat: Starting" in text:
                break
            time.sleep(0.5)
        text = log.read_text(errors="replace")
        assert web_ok, text[-3000:]
        assert "ready." in text and "beat: Starting" in text, text[-3000:]

        honcho.send_signal(signal.SIGINT)
        assert honcho.wait(45) is not None
    finally:
        if honcho.poll() is None:
            os.killpg(honcho.pid, signal.SIGKILL)
    leftovers = subprocess.run(["pgrep", "-s", str(honcho.pid)], capture_output=True, text=True).stdout.split()
    assert leftovers == [], f"processes left running: {leftovers}"
