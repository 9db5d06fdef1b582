"""X's filtered stream end to end: the local fake X API on 127.0.0.1 → ``manage.py consume_push`` (a real process)
→ a real Celery worker → the database. Rules follow the sources; a tweet on the stream is persisted within seconds; a
dropped stream reconnects and its backfill reads what was posted meanwhile, nothing twice; hostile lines are skipped;
a token without filtered-stream access leaves the source polled."""
from __future__ import annotations

import time

import pytest

from api.models import Document, Mention, Source
from tests.conftest import purge_queues
from tgesweeper.bench.fake_x_api import TOKEN, FakeXAPI
from tgesweeper.bench.processes import wait_until
from tgesweeper.bench.push_server import LocalPushConsumer
from tgesweeper.sources import x_api
from workers import sweeps

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

PROJECTS = ("Quillstone Network", "Ferrowind Labs", "Tessaline Protocol", "Murkwater Finance", "Zephyrine Labs",
            "Oriqua Network", "Draxen Protocol", "Velmora Chain")


def launch_text(n: int) -> str:
    project = PROJECTS[n % len(PROJECTS)]
    return f"{project} to launch {project[:3].upper()}{n} token on December {4 + n}, 2026: the token generation event is set"


def wait_for(predicate, timeout: float, what: str) -> None:
    wait_until(predicate, timeout, poll=0.05, message=what)


@pytest.fixture
def x_api_server():
    with FakeXAPI() as api:
        api.add_user("101", "lumenchain")
        api.rules["1"] = {"id": "1", "value": "from:someone", "tag": "another product's rule"}
        yield api


@pytest.fixture
def x_source(x_api_server, config, allow_local):
    config(X_BEARER_TOKEN=TOKEN, X_API_BASE_URL=x_api_server.base_url)
    source = Source(name="X launches", kind="x", query="TGE", options={"stream": True}, interval_seconds=3600)
    source.full_clean()
    source.save()
    return source


def start_consumer(worker_env, tmp_path, api: FakeXAPI) -> LocalPushConsumer:
    process = LocalPushConsumer(env={**worker_env, "X_BEARER_TOKEN": TOKEN, "X_API_BASE_URL": api.base_url,
                                     "PUSH_RECONNECT_BASE_DELAY": "0.2", "PUSH_RECONNECT_MAX_DELAY": "1",
                                     "PUSH_SOURCES_REFRESH": "0.5"},
                                log_path=tmp_path / "push.log", heartbeat=tmp_path / "push.alive")
    process.start()
    return process


@pytest.fixture
def consumer(worker_env, tmp_path, x_api_server, x_source):
    process = start_consumer(worker_env, tmp_path, x_api_server)
    yield process
    process.stop()


def stored(source: Source) -> list[str]:
    return sorted(Document.objects.filter(source=source).values_list("external_id", flat=True))


def test_streamed_tweets_are_persisted_a_drop_is_backfilled_and_hostile_lines_skipped(
        x_api_server, x_source, consumer, celery_worker_process):
    api = x_api_server
    api.wait_for_streams()
    ours = [rule for rule in api.rules.values() if rule.get("tag") == x_api.rule_tag(x_source.pk)]
    assert [rule["value"] for rule in ours] == ["(TGE) -is:retweet"]
    assert "1" in api.rules  # another product's rule is left alone

    delays = []
    for n in range(3):
        posted = time.monotonic()
        api.push(5000 + n, "101", launch_text(n))
        wait_for(lambda n=n: f"x:{5000 + n}" in stored(x_source), 20, f"tweet {n} stored")
        delays.append(time.monotonic() - posted)
    print(f"filtered stream: posted -> stored {', '.join(f'{d * 1000:.0f} ms' for d in delays)}")

    api.push(0, "101", "", raw=b"{not json")
    api.push(0, "101", "", raw=b'{"data": "a string", "matching_rules": 7}')
    api.drop_streams()
    for n in range(3, 5):  # posted while the stream is down: search finds them, the backfill reads them
        api.tweet(5000 + n, "101", launch_text(n))
    api.wait_for_streams()
    api.push(5005, "101", launch_text(5))
    wait_for(lambda: len(stored(x_source)) == 6, 30, "all 6 stored")
    api.push(5005, "101", launch_text(5))  # the stream sends one again (a redundant connection does)
    time.sleep(1.5)  # anything handed on twice would be persisted by now

    assert stored(x_source) == [f"x:{5000 + n}" for n in range(6)]
    mentions = Mention.objects.filter(source=x_source)
    assert mentions.count() == mentions.values("document").distinct().count() == 6
    log = consumer.log_text()
    assert "skipped a line: a filtered-stream line that is not JSON" in log
    assert "skipped a line: a filtered-stream line of an unexpected shape" in log
    assert "stream lost" in log and api.stream_connections >= 2

    x_source.options = {"stream": True, "accounts": ["lumenchain"], "search": False}
    x_source.save()
    wait_for(lambda: [r["value"] for r in api.rules.values() if r.get("tag") == x_api.rule_tag(x_source.pk)]
             == ["(from:lumenchain) -is:retweet"], 20, "the rule follows the source's options")
    x_source.enabled = False
    x_source.save()
    wait_for(lambda: not api.streams, 20, "the stream closed when its last source was disabled")


def test_a_token_without_filtered_stream_access_leaves_the_source_polled(
        x_api_server, x_source, worker_env, tmp_path, start_worker):
    api = x_api_server
    api.stream_status = 403
    api.tweet(6000, "101", launch_text(0))
    purge_queues()
    start_worker(X_BEARER_TOKEN=TOKEN, X_API_BASE_URL=api.base_url)  # the fetch stage polls the X API
    consumer = start_consumer(worker_env, tmp_path, api)
    try:
        wait_for(lambda: "HTTP 403: the token has no filtered-stream access" in consumer.log_text(), 20,
                 "the refusal logged")
        wait_for(lambda: "HTTP 403" in Source.objects.get(pk=x_source.pk).last_error, 10, "the refusal recorded")
        assert Source.objects.get(pk=x_source.pk).failure_count == 0  # not a failure of the source
        run_id = sweeps.start_sweep([x_source.pk])  # what beat does at the source's interval
        assert sweeps.wait_for_sweep(run_id, timeout=60)
        assert stored(x_source) == ["x:6000"]
        x_source.refresh_from_db()
        assert x_source.last_success_at is not None and x_source.failure_count == 0
    finally:
        consumer.stop()
