"""gunicorn's hooks for the web role (the image's CMD and the compose and Kubernetes commands pass ``-c`` this file).

The arbiter registers the web with Consul once it listens (when ``CONSUL_HTTP_ADDR`` is set) and deregisters it on
exit; a worker process that exits marks its Prometheus files dead (multiprocess mode, ``PROMETHEUS_MULTIPROC_DIR``).
"""

import os
import socket

from prometheus_client import multiprocess

from tgesweeper import service_registry
from tgesweeper.config import load_config

_config = load_config()
_service: dict[str, str | None] = {"id": None}


def when_ready(server):
    port = server.LISTENERS[0].getsockname()[1]
    instance = f"{socket.gethostname()}-{port}"
    _service["id"] = service_registry.register(_config, "tge-web", instance, port, health_path="/health/ready")


def on_exit(server):
    service_registry.deregister(_config, _service["id"])


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)
