"""Alert deliveries are counted by outcome on the worker's metrics port (the counter alerts.yml watches): a webhook
that answers 500 then 200 is one failed attempt and one delivery. Real worker, real local receiver."""
from __future__ import annotations

import time

import pytest
import requests

from api.models import Delivery
from tests.conftest import needs_redis
from tests.integration.test_alerts import alert_worker, launch, owner, receiver, source, subscribe  # noqa: F401
from tests.integration.test_worker_metrics import samples, value
from tgesweeper.bench.local_process import free_port
from workers import tasks

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services, needs_redis]


def test_failed_and_delivered_attempts_are_counted(alert_worker, receiver, owner, source, allow_local, tmp_path):  # noqa: F811
    (tmp_path / "prom").mkdir()
    port = free_port()
    alert_worker(PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "prom"), WORKER_METRICS_PORT=str(port))
    receiver.answer("/flaky", 500)
    subscribe(owner, receiver.url("/flaky"))
    tasks.persist_results.delay(launch(source, "m1", "1"))
    receiver.wait_for("/flaky", 2)
    deadline = time.monotonic() + 30
    while not Delivery.objects.filter(state="delivered").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    found = samples(requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text)
    assert value(found, "tge_alert_deliveries_total", channel="webhook", outcome="failed") == 1
    assert value(found, "tge_alert_deliveries_total", channel="webhook", outcome="delivered") == 1
