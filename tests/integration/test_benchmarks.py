"""The benchmark commands run for real and count what they should (figures are printed, never asserted on speed)."""
import json
import subprocess

import pytest
from django.core.management import call_command

from api.models import Source
from tests.conftest import needs_postgres
from tgesweeper.bench.pipeline_benchmark import generate_items, run_pipeline_benchmark
from tgesweeper.bench.worker_hosts import NAMESPACE_PREFIX, namespaces_unavailable
from tgesweeper.config import SHIPPED_DETECTOR_MODEL

pytestmark = pytest.mark.services


@pytest.mark.django_db(transaction=True)
def test_pipeline_benchmark_drains_with_nothing_lost_or_duplicated(allow_local, worker_env):
    result = run_pipeline_benchmark(400, per_feed=200, concurrency=1, worker_env=worker_env, timeout=120)
    assert result["finished"]
    assert (result["lost"], result["duplicated"], result["unexpected"]) == (0, 0, 0)
    assert result["batches"] == 2  # two feeds of 200 items in batches of up to 250 (the default)
    assert result["mentions"] > 0
    assert set(result["rss_mb"]) == {"worker main", "worker child 1"} and 0 < result["rss_mb"]["worker child 1"] < 1000
    assert set(result["worker_cpu_seconds"]) == {"worker main", "worker pool"}
    assert result["worker_cpu_seconds"]["worker pool"] > 0
    assert not Source.objects.filter(name__startswith="bench ").exists()


@pytest.mark.django_db(transaction=True)
def test_stage_benchmark_prints_each_stage_cpu_and_removes_its_sources(capsys, tmp_path):
    call_command("benchmark", "stages", "--docs", "300", "--per-feed", "150", "--json", "--profile",
                 str(tmp_path / "p"))
    figures = json.loads(capsys.readouterr().out)
    assert figures["docs"] == 300 and figures["batches"] == 2
    assert all(figures["cpu_seconds"][stage] > 0 for stage in ("parse", "match", "persist"))
    assert {p.name for p in tmp_path.iterdir()} == {"p.parse", "p.match", "p.persist"}
    assert not Source.objects.filter(name__startswith="bench ").exists()


@pytest.mark.django_db  # the engine reads the admin's keyword rules
def test_match_benchmark_prints_its_figures_as_json(capsys):
    call_command("benchmark", "match", "--docs", "300", "--json")
    figures = json.loads(capsys.readouterr().out)
    assert figures["docs"] == 300 and figures["docs_per_sec_per_core"] > 0 and figures["p99_ms"] >= figures["p50_ms"]


@pytest.mark.django_db
def test_match_benchmark_with_a_shadow_model_matches_the_same_documents(capsys):
    """The shadow's scores never change the live verdicts: the same documents match."""
    call_command("benchmark", "match", "--docs", "300", "--json")
    alone = json.loads(capsys.readouterr().out)
    call_command("benchmark", "match", "--docs", "300", "--json", "--shadow", SHIPPED_DETECTOR_MODEL)
    shadowed = json.loads(capsys.readouterr().out)
    assert shadowed["matched"] == alone["matched"] > 0


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_pipeline_benchmark_on_two_worker_hosts_survives_the_kill_of_one(allow_local, capsys):
    """Two hosts, each a network namespace of its own: both take work over the network; one is killed -9 mid-task, the
    broker hands its message to the other, nothing is lost or stored twice, and no namespace or veth is left."""
    if why := namespaces_unavailable():
        pytest.skip(f"network namespaces cannot be created here: {why}")
    call_command("benchmark", "pipeline", "--docs", "300", "--per-feed", "50", "--hosts", "2", "--concurrency", "1",
                 "--kill-host", "--json")
    result = json.loads(capsys.readouterr().out)
    assert result["finished"] and (result["lost"], result["duplicated"], result["unexpected"]) == (0, 0, 0)
    hosts = result["hosts"]
    addresses = {host["address"] for host in hosts.values()}
    assert len(hosts) == 2 and len(addresses) == 2 and "127.0.0.1" not in addresses
    assert all(host["broker_saw_it"] and host["database_connections"] and host["tasks_run"] for host in hosts.values())
    assert [label for label, host in hosts.items() if host["killed"]] == ["host 1"]
    assert result["killed"]["ran_again_on"] == "host 2"  # the killed host's task, redelivered
    assert result["killed"]["recover_seconds"] >= result["killed"]["visibility_timeout"] - 1
    left = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    links = subprocess.run(["ip", "-br", "link"], capture_output=True, text=True, check=True).stdout
    assert NAMESPACE_PREFIX not in left
    assert not [line for line in links.splitlines() if line.startswith("tge")], links
    assert not Source.objects.filter(name__startswith="bench ").exists()


def test_generated_news_is_mostly_noise_with_tagged_launches():
    import random

    items = generate_items(1000, "t", random.Random(1))
    launches = [i for i in items if "token" in i["title"].lower()]
    assert 20 <= len(launches) <= 100
    assert len({i["guid"] for i in items}) == 1000


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_api_benchmark_serves_the_locust_mix_and_removes_what_it_seeded(worker_env):
    from api.models import ApiKey, Document
    from tgesweeper.bench.api_benchmark import bench_events, bench_sources, run_api_benchmark

    result = run_api_benchmark(300, users=3, spawn_rate=3, seconds=8, workers=1, threads=2,
                               server_env={"DATABASE_URL": worker_env["DATABASE_URL"],
                                           "REDIS_URL": worker_env["REDIS_URL"]})
    assert result["requests"] > 0 and result["error_rate"] == 0
    assert result["p99_ms"] >= result["p50_ms"] > 0
    kinds = set(result["by_request"])
    assert {"search", "metrics", "list (first page)"} <= kinds
    assert any(k.startswith("list ") and k != "list (first page)" for k in kinds)  # the variant is random
    assert not bench_events().exists() and not bench_sources().exists() and not Document.objects.exists()
    assert not ApiKey.objects.exists()


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_api_benchmark_keeps_and_reuses_its_events():
    from tgesweeper.bench.api_benchmark import bench_events, remove_seeded, seed_events

    assert seed_events(120) > 0 and bench_events().count() == 120
    assert bench_events().first().mentions.count() == 1
    assert seed_events(120) == 0  # already there: nothing seeded again
    remove_seeded()
    assert not bench_events().exists()


@pytest.mark.django_db
def test_api_benchmark_refuses_a_database_other_than_postgresql(monkeypatch):
    from django.core.management.base import CommandError
    from django.db import connection

    monkeypatch.setattr(connection, "vendor", "sqlite")
    with pytest.raises(CommandError, match="PostgreSQL"):
        call_command("benchmark", "api", "--events", "10", "--json")


@pytest.mark.django_db(transaction=True)
def test_latency_benchmark_gets_one_verified_alert_per_item_through_real_beat_and_workers(allow_local, worker_env):
    from api.models import ApiKey, Subscription, TGEEvent
    from tgesweeper.bench.latency_benchmark import run_latency_benchmark

    result = run_latency_benchmark(3, interval=5, concurrency=1, worker_env=worker_env)
    assert (result["items"], result["alerts"], result["lost"], result["duplicated"], result["unverified"]) == (
        3, 3, 0, 0, 0)
    assert result["p50_ms"] <= result["p95_ms"] <= result["p99_ms"]
    assert result["pipeline_p95_ms"] is not None and set(result["stages_p95_ms"]) == {"poll_wait", "processing",
                                                                                      "delivery"}
    assert not (Source.objects.exists() or TGEEvent.objects.exists() or Subscription.objects.exists()
                or ApiKey.objects.exists())


@pytest.mark.django_db(transaction=True)
def test_fetch_benchmark_keeps_every_fetch_thread_busy_with_slow_sources(allow_local, worker_env):
    from tgesweeper.bench.fetch_benchmark import run_fetch_benchmark

    result = run_fetch_benchmark(24, delay=1.0, items_per_feed=4, threads=8, worker_env=worker_env, timeout=120)
    print(result)
    assert result["finished"] and result["failed_sources"] == 0
    assert (result["lost"], result["duplicated"], result["unexpected"]) == (0, 0, 0)
    # Served one by one, 24 sources answering in 1 s each would take 24 s with one request in flight.
    assert result["in_flight"]["max"] == 8
    assert result["fetching"]["seconds"] < 12
    assert result["answered_to_persisted_ms"]["p95"] is not None
    assert set(result["rss_mb"]) >= {"fetch main", "cpu main", "cpu child 1", "io main", "io child 1"}
    assert not Source.objects.filter(name__startswith="bench ").exists()


def test_in_flight_is_counted_as_the_server_sees_it():
    import threading
    import time

    from tgesweeper.bench.fetch_benchmark import InFlight

    gauge = InFlight()
    barrier = threading.Barrier(5)

    def request():
        barrier.wait()
        gauge.enter()
        time.sleep(0.2)
        gauge.leave()

    threads = [threading.Thread(target=request) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert gauge.max == 5 and gauge.now == 0
    assert 3.5 < gauge.mean <= 5


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_fault_benchmark_prints_a_row_per_fault_with_nothing_lost_or_duplicated(capsys):
    """The short version of `benchmark faults`: on a private redis-server, X's 429 and the item that raises in match
    (faults 1, 2, 4 and 5 run through the same scenarios in test_faults.py, on both brokers, and fault 3 in
    test_poison_messages.py; fault 7 waits out five deadlines and a circuit's rest, too long for the suite)."""
    from api.models import DeadLetter, PipelineFailure, TGEEvent

    call_command("benchmark", "faults", "--broker", "redis", "--faults", "8,9", "--docs", "20", "--json")
    rows = json.loads(capsys.readouterr().out)
    assert [row["fault"][:2] for row in rows] == ["8 ", "9 "]
    for row in rows:
        assert set(row) == {"fault", "sent", "stored", "lost", "duplicated", "unexpected", "recover_seconds"}
        assert (row["sent"], row["stored"], row["lost"], row["duplicated"], row["unexpected"]) == (20, 20, 0, 0, 0)
        assert isinstance(row["recover_seconds"], float) and row["recover_seconds"] > 0
    assert not (Source.objects.exists() or TGEEvent.objects.exists() or DeadLetter.objects.exists()
                or PipelineFailure.objects.exists())  # the harness removes what it made


@pytest.mark.django_db
def test_fault_benchmark_fails_when_a_row_lost_or_duplicated_documents(monkeypatch):
    from django.core.management.base import CommandError

    row = {"fault": "1 kill -9", "sent": 10, "stored": 9, "lost": 1, "duplicated": 0, "unexpected": 0,
           "recover_seconds": 1.0}
    monkeypatch.setattr("tgesweeper.bench.management.commands.benchmark.run_fault_benchmark",
                        lambda *args, **kwargs: [row])
    with pytest.raises(CommandError, match="lost, duplicated"):
        call_command("benchmark", "faults", "--json")
