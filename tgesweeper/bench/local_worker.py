"""Starts and stops a real Celery worker process on this machine (benchmarks and end-to-end tests)."""
from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

from celeryconfig import WORKER_QUEUES
from tgesweeper.bench.local_process import LocalProcess

READY_MARK = "ready."


class LocalWorker(LocalProcess):
    """``celery -A tgesweeper worker`` with the given environment; ready when it says so in its log."""

    program = "celery worker"

    def __init__(self, *, env: dict[str, str] | None = None, concurrency: int = 2, log_path: Path,
                 queues: tuple[str, ...] = WORKER_QUEUES, pool: str = "prefork", name: str = "local"):
        super().__init__([
            sys.executable, "-m", "celery", "-A", "tgesweeper", "worker", "-Q", ",".join(queues),
            "--concurrency", str(concurrency), "--pool", pool, "--loglevel", "INFO",
            "--hostname", f"{name}-{os.getpid()}@%h", "--without-mingle", "--without-gossip",
        ], env={**os.environ, **(env or {})}, log_path=log_path)

    def is_ready(self) -> bool:
        return READY_MARK in self.log_text()


class RssSampler:
    """The largest RSS seen of each worker process (the main process and its pool children), sampled every
    ``every`` seconds in a thread, the CPU seconds each had used at the last sample (``cpu``) and at the first one,
    taken on entering (``cpu_at_start``: what starting up cost)."""

    def __init__(self, workers: dict[str, LocalWorker], every: float = 0.25) -> None:
        self.workers, self.every = workers, every
        self.peak: dict[str, int] = {}
        self.cpu: dict[str, float] = {}
        self.cpu_at_start: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.every)

    def sample(self) -> None:
        try:
            import psutil  # noqa: PLC0415 - a development requirement: without it (the image) nothing is sampled
        except ImportError:
            return

        for name, worker in self.workers.items():
            if worker.process is None:
                continue
            try:
                main = psutil.Process(worker.process.pid)
                children = sorted(main.children(), key=lambda child: child.pid)
                processes = [("main", main)] + [(f"child {n}", c) for n, c in enumerate(children, 1)]
                for label, process in processes:
                    key = f"{name} {label}"
                    self.peak[key] = max(self.peak.get(key, 0), process.memory_info().rss)
                    times = process.cpu_times()
                    self.cpu[key] = times.user + times.system
            except psutil.NoSuchProcess:
                continue

    def cpu_since_start(self) -> dict[str, float]:
        return {key: used - self.cpu_at_start.get(key, 0.0) for key, used in self.cpu.items()}

    def __enter__(self) -> RssSampler:
        self.sample()
        self.cpu_at_start = dict(self.cpu)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
