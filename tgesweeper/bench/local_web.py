"""The whole site under uvicorn on a free 127.0.0.1 port, as ``make run`` serves it (Django, the dashboard at /app/
and its socket.io live channel): for tests that drive it with a browser or a socket.io client."""
from __future__ import annotations

import sys
import urllib.request
from pathlib import Path

from tgesweeper.bench.local_process import LocalProcess, free_port


class LocalWeb(LocalProcess):
    """Ready when ``/health/live`` answers; ``restart()`` stops it and starts it again on the same port."""

    program = "uvicorn"

    def __init__(self, *, env: dict[str, str], log_path: Path, port: int | None = None):
        self.port = port or free_port()
        super().__init__([sys.executable, "-m", "uvicorn", "tgesweeper.asgi:application", "--host", "127.0.0.1",
                          "--port", str(self.port), "--no-access-log"], env=env, log_path=log_path)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def is_ready(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/health/live", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def restart(self, timeout: float = 60.0) -> LocalWeb:
        self.stop()
        return self.start(timeout)
