"""Faults on real processes (a worker killed mid-persist, the broker restarted, PostgreSQL away), through the
scenarios of ``benchmark faults`` (``tgesweeper.bench.fault_benchmark``): a celery worker on a private broker — a
``redis-server``, or a RabbitMQ node with a private ``redis-server`` as cache — and the test database, tagged feeds
served on 127.0.0.1, and the Jepsen-style ledger (lost, duplicated, unexpected) once the sweep has drained. Here each
scenario is also checked for what it leaves behind: the ledger rows, the batches, the event counts, the worker's log."""
from __future__ import annotations

import pytest
from django.conf import settings
from django.db.models import Sum

from api.models import Mention, PipelineBatch, SweepSource, TGEEvent
from tests.conftest import needs_postgres, needs_redis
from tgesweeper.bench import fault_benchmark as faults
from tgesweeper.bench.processes import RabbitMQServer, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services, needs_redis, needs_postgres]

NOTHING_WRONG = {"lost": 0, "duplicated": 0, "unexpected": 0}


# The broker kind of the run: `make test` (Redis) strikes a private redis-server, `make test-rabbitmq` a private
# RabbitMQ node; CI runs both.
BROKER_KIND = "rabbitmq" if settings.CONFIG["CELERY_BROKER_URL"].startswith(("amqp://", "amqps://")) else "redis"


@pytest.fixture(params=[BROKER_KIND])
def rig(request, tmp_path):
    """A private broker and cache, a feed server and workers on them (``benchmark faults``'s own)."""
    if request.param == "rabbitmq" and not RabbitMQServer.installed():
        pytest.skip("rabbitmq-server is not installed (.ci/run installs it)")
    with faults.private_rig(request.param, tmp_path) as rig:
        yield rig


def assert_drained(run: faults.FaultRun) -> None:
    """The sweep finished; every tagged item is stored once, every batch counted once, events not double counted."""
    load = run.load
    assert run.drained(), run.worker.log_text()[-4000:]
    assert load.ledger() == NOTHING_WRONG
    ledger = SweepSource.objects.filter(run_id=run.run_id).aggregate(expected=Sum("batches_expected"),
                                                                      done=Sum("batches_done"))
    assert ledger["done"] == ledger["expected"] == load.batches
    assert PipelineBatch.objects.filter(source__in=load.sources).count() == load.batches
    event = TGEEvent.objects.get(mentions__document__external_id=f"bench-{load.tag}-0",
                                 mentions__source__in=load.sources)
    assert (event.mention_count, event.source_count) == (1, 1)
    assert TGEEvent.objects.aggregate(n=Sum("mention_count"))["n"] == Mention.objects.count()


def test_fault_1_kill_9_of_a_worker_child_mid_persist(rig):
    """Fault 1: the child running persist dies inside the transaction; the batch is redelivered and stored once."""
    run = faults.kill_worker_child_mid_persist(rig)
    assert_drained(run)
    log = run.worker.log_text()
    assert f"pid:{run.seen['child_pid']} exited with 'signal 9 (SIGKILL)'" in log
    received = faults.log_lines(log, f"Task {faults.PERSIST}[", "] received")
    assert len(received) == run.load.batches + 1  # one twice


def test_fault_2_kill_9_of_the_whole_worker(rig):
    """Fault 2: main process and children die; their unacked messages come back (on Redis after the visibility
    timeout, on RabbitMQ as soon as the dead worker's connection drops) to a successor."""
    run = faults.kill_whole_worker(rig)
    assert_drained(run)
    wait_until(rig.broker.holds_nothing, 10, message="messages left in the broker")  # notify may still run


def test_fault_4_broker_restarted_under_load(rig):
    """Fault 4: the broker (on Redis, the cache too) restarts while batches flow; nothing is lost, duplicated or
    unexpected."""
    run = faults.restart_broker(rig)
    assert 0 < run.seen["stored_at_restart"] < run.load.docs
    assert_drained(run)
    assert "Connection to broker lost" in run.worker.log_text()


def test_fault_5_postgresql_unavailable_for_a_while(rig):
    """Fault 5: the worker's database goes away mid-persist for a few seconds; persist retries with backoff,
    nothing of the batch is kept uncommitted (the scenario checks it while the database is away, and that the message
    stays on the broker), and the pipeline catches up once the database is back."""
    assert_drained(faults.cut_postgresql(rig))
