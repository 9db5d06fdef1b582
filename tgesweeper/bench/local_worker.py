"""Starts and stops a real Celery worker process on this machine (benchmarks and end-to-end tests)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

from celeryconfig import WORKER_QUEUES
from tgesweeper.bench.local_process import LocalProcess

READY_MARK = "ready."


class LocalWorker(LocalProcess):
    """``celery -A tgesweeper worker`` with the given environment; ready when it says so in its log. ``app`` names
    another module holding the app (a fault benchmark's planted bug); ``run_in`` prefixes the command (``ip netns exec
    NAME``: a worker host of its own)."""

    program = "celery worker"

    def __init__(self, *, env: dict[str, str] | None = None, concurrency: int = 2, log_path: Path,
                 queues: tuple[str, ...] = WORKER_QUEUES, pool: str = "prefork", name: str = "local",
                 app: str = "tgesweeper", run_in: tuple[str, ...] = ()):
        super().__init__([
            *run_in, sys.executable, "-m", "celery", "-A", app, "worker", "-Q", ",".join(queues),
            "--concurrency", str(concurrency), "--pool", pool, "--loglevel", "INFO",
            "--hostname", f"{name}-{os.getpid()}@%h", "--without-mingle", "--without-gossip",
        ], env={**os.environ, **(env or {})}, log_path=log_path)

    def is_ready(self) -> bool:
        return READY_MARK in self.log_text()
