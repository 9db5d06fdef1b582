"""Starts and stops a real Celery worker process on this machine (benchmarks and end-to-end tests)."""
from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import psutil

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


class RssSampler:
    """The largest RSS seen of each worker process (the main process and its pool children), sampled every
    ``every`` seconds in a thread, and the CPU seconds each had used at the last sample (``cpu``; ``NAME exited
    children``: the pool children the main process replaced, ``worker_max_tasks_per_child``, and reaped).
    ``cpu_since_start`` splits what each worker used after entering between its main process and its pool."""

    def __init__(self, workers: dict[str, LocalWorker], every: float = 0.25) -> None:
        self.workers, self.every = workers, every
        self.peak: dict[str, int] = {}
        self.cpu: dict[str, float] = {}
        self._by_pid: dict[str, dict[int, float]] = {}
        self._at_start: dict[str, dict[int, float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.every)

    def sample(self) -> None:
        for name, worker in self.workers.items():
            if worker.process is None:
                continue
            try:
                main = psutil.Process(worker.process.pid)
                children = sorted(main.children(), key=lambda child: child.pid)
                processes = [("main", main)] + [(f"child {n}", c) for n, c in enumerate(children, 1)]
                used = {}
                for label, process in processes:
                    key = f"{name} {label}"
                    self.peak[key] = max(self.peak.get(key, 0), process.memory_info().rss)
                    times = process.cpu_times()
                    self.cpu[key] = used[process.pid] = times.user + times.system
                times = main.cpu_times()
                self.cpu[f"{name} exited children"] = used[0] = times.children_user + times.children_system
                self._by_pid[name] = used
            except psutil.NoSuchProcess:
                continue

    def cpu_since_start(self) -> dict[str, float]:
        """Per worker, ``NAME main`` and ``NAME pool``: CPU seconds used since entering (a pool child that was
        replaced counts in full, through the main process's reaped-children times, less what it had used before)."""
        figures = {}
        for name, worker in self.workers.items():
            now, start = self._by_pid.get(name, {}), self._at_start.get(name, {})
            if worker.process is None or not now:
                continue
            main = worker.process.pid
            figures[f"{name} main"] = now.get(main, 0.0) - start.get(main, 0.0)
            figures[f"{name} pool"] = (sum(used for pid, used in now.items() if pid != main)
                                       - sum(used for pid, used in start.items() if pid != main))
        return figures

    def __enter__(self) -> RssSampler:
        self.sample()
        self._at_start = {name: dict(used) for name, used in self._by_pid.items()}
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
