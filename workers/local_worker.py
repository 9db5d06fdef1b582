"""Starts and stops a real Celery worker process on this machine (benchmarks and end-to-end tests).

It runs ``celery -A tgesweeper worker`` with the given environment, waits until the worker says it is
ready, and ends only the process group it started.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from celeryconfig import PIPELINE_QUEUES

READY_MARK = "ready."


class LocalWorker:
    def __init__(self, *, env: dict[str, str] | None = None, concurrency: int = 2, log_path: Path,
                 queues: tuple[str, ...] = PIPELINE_QUEUES, pool: str = "prefork", name: str = "local"):
        self.log_path = Path(log_path)
        self.command = [
            sys.executable, "-m", "celery", "-A", "tgesweeper", "worker", "-Q", ",".join(queues),
            "--concurrency", str(concurrency), "--pool", pool, "--loglevel", "INFO",
            "--hostname", f"{name}-{os.getpid()}@%h", "--without-mingle", "--without-gossip",
        ]
        self.env = {**os.environ, **(env or {})}
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60.0) -> LocalWorker:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(self.command, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                        start_new_session=True, cwd=Path(__file__).resolve().parent.parent)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited with {self.process.returncode}:\n{self.log_text()[-3000:]}")
            if READY_MARK in self.log_text():
                return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"worker not ready after {timeout:.0f} s:\n{self.log_text()[-3000:]}")

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, timeout: float = 20.0) -> None:
        """Warm shutdown (SIGTERM) of the group we started; SIGKILL if it lingers."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)

    def __enter__(self) -> LocalWorker:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
