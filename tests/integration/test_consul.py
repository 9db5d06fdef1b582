"""Consul (optional): with CONSUL_HTTP_ADDR set, the web (uvicorn, the ASGI app's lifespan) and a worker register with a health
check when ready and deregister when they stop. A local HTTP server stands in for the agent and records the calls;
the processes are real."""
from __future__ import annotations

import json
import sys
import time

import pytest
import requests

from tests.conftest import needs_redis
from tests.processes import RecordingServer
from tgesweeper.bench.local_process import LocalProcess, free_port

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services, needs_redis]


class ConsulAgentStandIn(RecordingServer):
    """Answers the agent API's service calls with `true` and keeps (method, path, JSON body) of each."""

    reply = b"true"

    def __init__(self):
        self.calls: list[tuple[str, str, dict | None]] = []
        super().__init__()

    def record(self, method, path, headers, body) -> None:
        self.calls.append((method, path, json.loads(body) if body else None))

    def wait_for(self, path_start: str, timeout: float = 60) -> tuple[str, str, dict | None]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for call in self.calls:
                if call[1].startswith(path_start):
                    return call
            time.sleep(0.2)
        raise AssertionError(f"no call to {path_start}: {self.calls}")


@pytest.fixture
def consul_agent():
    with ConsulAgentStandIn() as agent:
        yield agent


class Web(LocalProcess):
    program = "uvicorn"

    def __init__(self, *, env: dict[str, str], log_path, port: int):
        self.url = f"http://127.0.0.1:{port}"
        super().__init__([sys.executable, "-m", "uvicorn", "tgesweeper.asgi:application", "--host", "127.0.0.1",
                          "--port", str(port)], env=env, log_path=log_path)

    def is_ready(self) -> bool:
        try:
            return requests.get(f"{self.url}/health/live", timeout=2).status_code == 200
        except requests.RequestException:
            return False


def test_the_web_registers_with_a_readiness_check_and_deregisters_on_exit(consul_agent, worker_env, tmp_path):
    port = free_port()
    env = {**worker_env, "CONSUL_HTTP_ADDR": consul_agent.url, "CONSUL_SERVICE_ADDRESS": "127.0.0.1",
           "CONSUL_SERVICE_PORT": str(port)}
    web = Web(env=env, log_path=tmp_path / "web.log", port=port).start()
    try:
        _, path, body = consul_agent.wait_for("/v1/agent/service/register")
        assert (body["name"], body["port"], body["address"]) == ("tge-web", port, "127.0.0.1")
        assert body["checks"][0]["http"] == f"http://127.0.0.1:{port}/health/ready"
        assert requests.get(body["checks"][0]["http"], timeout=5).status_code == 200  # the check Consul would make
    finally:
        web.stop()
    _, path, _ = consul_agent.wait_for("/v1/agent/service/deregister/")
    assert path == f"/v1/agent/service/deregister/{body['id']}"


def test_a_worker_registers_with_its_queues_and_deregisters_on_warm_shutdown(consul_agent, start_worker, tmp_path):
    (tmp_path / "prom").mkdir()
    port = free_port()
    worker = start_worker(concurrency=1, CONSUL_HTTP_ADDR=consul_agent.url, CONSUL_SERVICE_ADDRESS="127.0.0.1",
                          WORKER_METRICS_PORT=str(port), PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "prom"))
    _, _, body = consul_agent.wait_for("/v1/agent/service/register")
    assert body["name"] == "tge-worker" and body["port"] == port
    assert {"fetch", "parse", "match", "persist", "notify"} <= set(body["tags"])
    assert body["checks"][0]["http"] == f"http://127.0.0.1:{port}/metrics"
    assert requests.get(body["checks"][0]["http"], timeout=5).status_code == 200
    worker.stop()
    _, path, _ = consul_agent.wait_for("/v1/agent/service/deregister/")
    assert path == f"/v1/agent/service/deregister/{body['id']}"


def test_an_agent_that_does_not_answer_does_not_stop_the_worker(start_worker, tmp_path):
    worker = start_worker(concurrency=1, CONSUL_HTTP_ADDR=f"http://127.0.0.1:{free_port()}")
    deadline = time.monotonic() + 30
    while "could not register" not in worker.log_text() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert "could not register tge-worker-" in worker.log_text()
    assert worker.process.poll() is None
