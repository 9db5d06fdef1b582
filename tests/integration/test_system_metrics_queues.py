"""system/metrics and Prometheus' /metrics report every queue the Celery app declares, the browser queue included."""
from __future__ import annotations

import pytest

from api import system_metrics
from tests.conftest import purge_queues
from tgesweeper.celery import app
from workers.schedule import fetch_queue

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]


def test_the_metrics_queues_are_the_ones_celery_declares():
    declared = {queue.name for queue in app.conf.task_queues}
    assert set(system_metrics.queue_names()) == declared
    assert {fetch_queue("rss"), fetch_queue("browser")} <= declared
    assert "browser" in system_metrics.queue_names()


def test_a_message_waiting_on_the_browser_queue_is_counted(reader):
    purge_queues("browser")
    try:
        app.send_task("workers.tasks.fetch_source", args=[0], queue="browser")
        body = reader.get("/api/v1/system/metrics").json()
        assert set(body["queues"]) == {queue.name for queue in app.conf.task_queues}  # browser among them
        assert body["queues"]["browser"] == 1
        text = reader.get("/metrics").content.decode()
        assert 'tge_queue_depth{queue="browser"} 1.0' in text
    finally:
        purge_queues("browser")
