"""Pipeline metrics are counted in the worker's pool processes and served by the worker on WORKER_METRICS_PORT
(prometheus_client's multiprocess mode); the web's /metrics serves the database's and broker's figures and the
request metrics. Real prefork worker, real feed server."""
from __future__ import annotations

import time

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from api.models import DeadLetter, Source
from tests.conftest import needs_redis
from tests.integration.test_end_to_end import ITEMS, feed
from tgesweeper.bench.local_process import free_port
from workers import sweeps

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services, needs_redis]


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(found: dict, name: str, **labels: str) -> float:
    """The sum over the samples named ``name`` whose labels include ``labels``."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in found.items() if n == name and wanted <= ls)


def test_a_prefork_workers_pipeline_metrics_are_served_on_its_metrics_port(feed_server, start_worker, tmp_path):
    feed_server.add("/wire.xml", feed())
    wire = Source.objects.create(name="Metered wire", url=feed_server.url("/wire.xml"))
    gone = Source.objects.create(name="Gone wire", url=feed_server.url("/gone.xml"))
    (tmp_path / "prom").mkdir()
    port = free_port()
    worker = start_worker(concurrency=2, PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "prom"), WORKER_METRICS_PORT=str(port))

    run_id = sweeps.start_sweep([wire.pk, gone.pk])
    assert sweeps.wait_for_sweep(run_id, timeout=120), worker.log_text()[-3000:]

    deadline = time.monotonic() + 30
    while True:
        found = samples(requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text)
        if value(found, "tge_stage_duration_seconds_count", stage="notify") or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    wire_id, gone_id = str(wire.pk), str(gone.pk)
    assert value(found, "tge_fetches_total", source_id=wire_id, outcome="ok") == 1
    assert value(found, "tge_fetch_errors_total", source_id=gone_id, reason="http_4xx") == 1
    assert value(found, "tge_documents_parsed_total", source_id=wire_id) == len(ITEMS)
    assert value(found, "tge_documents_new_total", source_id=wire_id) == len(ITEMS)
    assert value(found, "tge_documents_stored_total", source_id=wire_id) == len(ITEMS)
    assert value(found, "tge_matches_total", source_id=wire_id) >= 2
    assert value(found, "tge_events_changed_total") >= 2
    assert value(found, "tge_publication_to_persisted_seconds_count") == len(ITEMS)
    for stage in ("fetch", "parse", "match", "persist", "notify"):
        assert value(found, "tge_stage_duration_seconds_count", stage=stage, outcome="success") >= 1, stage
    # The counts came from the pool processes, not the main one serving them.
    assert len(list((tmp_path / "prom").glob("*.db"))) >= 1


def test_the_webs_metrics_show_circuits_dead_letters_and_requests(reader, fresh_cache):
    Source.objects.create(name="Resting wire", url="https://news.example.com/rss", circuit_state="open",
                          failure_count=5)
    DeadLetter.objects.create(task_name="workers.tasks.persist_results", task_id="t-1", deliveries=1, reason="x")
    reader.get("/api/v1/tge-events")
    found = samples(reader.get("/metrics").content.decode())
    assert value(found, "tge_source_circuit_open", source="Resting wire") == 1
    assert value(found, "tge_source_info", source="Resting wire", kind="rss") == 1
    assert value(found, "tge_dead_letters") == 1
    assert value(found, "django_http_requests_total_by_view_transport_method_total") >= 1
