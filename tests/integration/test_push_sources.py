"""Push sources end to end: a fake exchange announcement WebSocket on 127.0.0.1 → ``manage.py consume_push`` (a real
process) → a real Celery worker → the database. Published → persisted within a second; a dropped stream reconnects
and backfills, nothing missed and nothing twice; hostile frames are skipped while the stream goes on."""
import time

import pytest
from django.core.exceptions import ValidationError

from api.models import Document, Mention, Source
from tgesweeper import net
from tgesweeper.bench.processes import wait_until
from tgesweeper.bench.push_benchmark import run_push_benchmark
from tgesweeper.bench.push_server import AnnouncementServer, LocalPushConsumer

pytestmark = pytest.mark.services

LAUNCH = "{name} ({tick}) token generation event set for December {day}, 2026"
LAUNCH_BODY = "The {name} team confirmed the TGE of its {tick} token for December {day}, 2026."
NAMES = ("Kalomi", "Vexora", "Quantil", "Dramen", "Solvix", "Fenlum", "Paxori", "Torzen", "Nexvi", "Luminar",
         "Oriqua", "Zenkalo", "Miradra", "Voltor", "Quasol", "Ferapax", "Lumiori", "Draxen", "Solenix", "Kavira",
         "Torvex", "Zenora", "Qualum", "Pazvi", "Ravix")


def announcement(n: int) -> dict:
    name, day = f"{NAMES[n % len(NAMES)]}{n // len(NAMES) or ''} Network", 2 + n % 27
    tick = name[:4].upper()
    return {"id": f"ann-{n}", "title": LAUNCH.format(name=name, tick=tick, day=day),
            "body": LAUNCH_BODY.format(name=name, tick=tick, day=day), "releaseDate": int(time.time() * 1000)}


def wait_for(predicate, timeout: float, what: str) -> None:
    wait_until(predicate, timeout, poll=0.05, message=what)


@pytest.fixture
def exchange():
    with AnnouncementServer() as server:
        yield server


@pytest.fixture
def push_source(exchange, allow_local):
    source = Source(name="exchange announcements", kind="websocket", url=exchange.list_url,
                    options=exchange.source_options(), interval_seconds=3600)
    source.full_clean()
    source.save()
    return source


@pytest.fixture
def consumer(worker_env, tmp_path, push_source):
    process = LocalPushConsumer(env={**worker_env, "PUSH_RECONNECT_BASE_DELAY": "0.2", "PUSH_RECONNECT_MAX_DELAY": "1",
                                     "PUSH_SOURCES_REFRESH": "0.5"}, log_path=tmp_path / "push.log",
                                heartbeat=tmp_path / "push.alive")
    process.start()
    yield process
    process.stop()


def stored_ids(source: Source) -> list[str]:
    return list(Document.objects.filter(source=source).values_list("external_id", flat=True))


@pytest.mark.django_db(transaction=True)
def test_a_published_announcement_is_persisted_as_an_event_within_a_second(allow_local, worker_env):
    result = run_push_benchmark(20, interval=0.25, concurrency=2, worker_env=worker_env)
    print(result)
    assert result["finished"] and (result["lost"], result["duplicated"], result["unexpected"]) == (0, 0, 0)
    assert result["events"] == 20
    assert result["published_to_persisted_ms"]["p95"] <= 1000
    assert result["stream_connections"] == 1  # one connection held open all along
    assert not Source.objects.filter(name__startswith="bench push ").exists()


@pytest.mark.django_db(transaction=True)
def test_a_dropped_stream_reconnects_and_backfills_nothing_missed_nothing_twice(exchange, push_source, consumer,
                                                                               celery_worker_process, tmp_path):
    exchange.wait_for_subscribers()
    for n in range(5):
        exchange.publish(announcement(n))
    wait_for(lambda: len(stored_ids(push_source)) == 5, 30, "the first 5 stored")

    exchange.refusing = True
    exchange.drop()
    for n in range(5, 10):  # published while the stream is down: listed only
        exchange.publish(announcement(n), live=False)
    refused_before = exchange.connections
    wait_for(lambda: exchange.connections >= refused_before + 2, 15, "the consumer tried again (and was refused)")
    push_source.refresh_from_db()
    assert push_source.last_error.startswith("stream: ConnectionClosedError") and push_source.failure_count == 0
    exchange.refusing = False
    exchange.wait_for_subscribers()
    for n in range(10, 15):
        exchange.publish(announcement(n))
    wait_for(lambda: len(stored_ids(push_source)) == 15, 30, "all 15 stored")
    time.sleep(1.5)  # anything sent twice would be persisted by now

    ids = stored_ids(push_source)
    assert sorted(ids) == sorted(f"ann-{n}" for n in range(15))
    push_source.refresh_from_db()
    assert push_source.last_error == ""  # the backfill after the reconnect parsed: healthy again
    mentions = Mention.objects.filter(source=push_source)
    assert mentions.count() == mentions.values("document").distinct().count() == 15
    log = consumer.log_text()
    assert "stream lost" in log and "reconnecting in" in log
    assert time.time() - (tmp_path / "push.alive").stat().st_mtime < 5  # the health check's heartbeat


@pytest.mark.django_db(transaction=True)
def test_hostile_frames_are_logged_and_skipped_and_the_stream_goes_on(exchange, push_source, consumer,
                                                                     celery_worker_process):
    exchange.wait_for_subscribers()
    exchange.publish(announcement(0))
    exchange.send_raw("this is not JSON {")
    exchange.send_raw('["a", "list", "not", "an", "object"]')
    exchange.send_raw('{"type": "DATA", "topic": "announcements_en", "data": 42}')
    exchange.send_raw('{"type": "DATA", "data": "{\\"id\\": \\"broken\\", \\"title\\": "}')
    exchange.send_raw(b"\xff\xfe\x00binary garbage")
    exchange.send_raw("[" * 100_000 + "]" * 100_000)
    exchange.publish(announcement(1))
    wait_for(lambda: len(stored_ids(push_source)) == 2, 30, "the two good announcements stored")

    exchange.send_raw("x" * (2 * 1024 * 1024))  # over the message cap: the consumer closes the stream, then reconnects
    wait_for(lambda: "stream lost" in consumer.log_text(), 10, "the huge frame closed the stream")
    exchange.wait_for_subscribers()
    exchange.publish(announcement(2))
    wait_for(lambda: len(stored_ids(push_source)) == 3, 30, "the announcement after the huge frame stored")

    assert sorted(stored_ids(push_source)) == ["ann-0", "ann-1", "ann-2"]
    log = consumer.log_text()
    assert log.count("skipped a message") == 6
    for reason in ("is not JSON", "not an object", "no announcement object", "nested too deeply"):
        assert reason in log
    assert consumer.process.poll() is None


@pytest.mark.django_db
def test_the_stream_url_follows_the_host_rule_of_source_urls(exchange, config):
    config(SCRAPING_ALLOW_PRIVATE_NETWORKS=False)
    public_list = "https://exchange.example.com/announcements"
    source = Source(name="private stream", kind="websocket", url=public_list, options=exchange.source_options())
    with pytest.raises(ValidationError, match="not a public internet address"):
        source.full_clean()
    source.options = {**exchange.source_options(), "stream": {"url": "http://exchange.example.com/ws"}}
    with pytest.raises(ValidationError, match="ws:// or wss://"):
        source.full_clean()
    with pytest.raises(net.BlockedURL):
        net.connect_stream(exchange.stream_url)
    with pytest.raises(net.BlockedURL):
        net.connect_stream("ws://[::ffff:127.0.0.1]:80/ws")
    net.connect_stream(exchange.stream_url, policy=net.FetchPolicy(allow_private=True)).close()


@pytest.mark.django_db(transaction=True)
def test_a_sweep_reads_the_announcement_list_while_no_consumer_runs(exchange, push_source):
    from tests.conftest import sweep_in_process

    for n in range(3):
        exchange.publish(announcement(n), live=False)
    row = sweep_in_process(push_source)[push_source.name]
    assert row.state == "done" and row.documents_new == 3
    assert sorted(stored_ids(push_source)) == ["ann-0", "ann-1", "ann-2"]
    push_source.refresh_from_db()
    assert push_source.etag  # the next poll, or the consumer's backfill, is a conditional GET


@pytest.mark.django_db
def test_a_backfill_the_broker_could_not_take_is_read_whole_again(exchange, allow_local, config):
    """The list read, the hand-off to the parse queue failing (broker away): the next connection's backfill must not
    send the ETag of that list, or the server's 304 would hide the announcements never handed off."""
    import base64
    import zlib

    from kombu.exceptions import OperationalError

    from workers.pipeline import source_spec
    from workers.push import StreamReader

    config(PUSH_RECONNECT_BASE_DELAY=0.05, PUSH_RECONNECT_MAX_DELAY=0.2)
    exchange.publish(announcement(0), live=False)
    source = Source.objects.create(name="exchange", kind="websocket", url=exchange.list_url,
                                   options=exchange.source_options(), enabled=False)
    handed_off, refused = [], []

    def send(payload: dict) -> None:
        if not refused:
            refused.append(payload)
            raise OperationalError("the broker is away")
        handed_off.append(zlib.decompress(base64.b64decode(payload["body"])))

    reader = StreamReader(source_spec(source), send)
    reader.start()
    try:
        wait_for(lambda: handed_off, 10, "a backfill handed off after the refused one")
    finally:
        reader.stop()
        reader.join(5)
    assert b"ann-0" in handed_off[0]
    assert exchange.http.not_modified["/announcements"] == 0
