"""Processes that benchmarks and tests start on this machine (a celery worker, gunicorn).

Each runs in a session of its own with its output in a log file, counts as started once ``is_ready`` says so,
and is ended by signalling only the process group it started.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def wait_until(predicate, timeout: float, poll: float = 0.1, message: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"not after {timeout:g} s: {message}")
        time.sleep(poll)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def database_url_for_processes() -> str:
    """The URL of the database this process is on (in a test, the one pytest-django created), for processes it
    starts."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgresql://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class LocalProcess:
    """Subclasses give the command, a ``program`` name for messages and ``is_ready``; ``with`` starts and stops."""

    program = "process"

    def __init__(self, command: list[str], *, env: dict[str, str], log_path: Path):
        self.command, self.env, self.log_path = command, env, Path(log_path)
        self.process: subprocess.Popen | None = None

    def is_ready(self) -> bool:
        raise NotImplementedError

    def start(self, timeout: float = 60.0):
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(self.command, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True, cwd=ROOT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.program} exited with {self.process.returncode}:\n{self.log_text()[-3000:]}")
            if self.is_ready():
                return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.program} not ready after {timeout:.0f} s:\n{self.log_text()[-3000:]}")

    @property
    def pid(self) -> int:
        assert self.process is not None, f"{self.program} is not started"
        return self.process.pid

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM to the group we started (a warm shutdown); SIGKILL if it lingers."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
