"""``GET /api/v1/events/stream`` served by uvicorn and by gunicorn, fed by a real Celery worker: a client that was
away gets exactly what it missed, in order, then what comes next; the response ends on time; bad resume ids are
400s."""
from __future__ import annotations

import time
import uuid

import httpx
import pytest
import redis
from httpx_sse import connect_sse

from api import event_log
from api.keys import create_key
from api.models import EventChange, TGEEvent
from tests.conftest import needs_redis, redis_url
from tgesweeper.bench.api_benchmark import ApiServer
from tgesweeper.bench.local_web import LocalWeb
from workers import tasks

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services]

PATH = "/api/v1/events/stream"


@pytest.fixture
def stream_env(config, worker_env):
    """A log of the test's own, shared by this process, the served app and the worker."""
    stream, channel, url = f"test:event-stream:{uuid.uuid4().hex}", f"test:events:{uuid.uuid4().hex}", redis_url()
    config(EVENT_LOG_STREAM=stream, NOTIFY_CHANNEL=channel)
    yield {**worker_env, "EVENT_LOG_STREAM": stream, "NOTIFY_CHANNEL": channel,
           "LIVE_SOCKET_CHANNEL": f"test:live:{uuid.uuid4().hex}",
           "EVENT_STREAM_HEARTBEAT_SECONDS": "1", "EVENT_STREAM_MAX_SECONDS": "8", "API_THROTTLE_RATE": ""}
    if url:
        redis.Redis.from_url(url).delete(stream)


@pytest.fixture(params=["uvicorn", "gunicorn"])
def server(request, stream_env, tmp_path):
    """The site as deployed (uvicorn, ASGI) and under a WSGI server (gunicorn): the stream takes another path in each."""
    if request.param == "uvicorn":
        served = LocalWeb(env=stream_env, log_path=tmp_path / "uvicorn.log")
    else:
        served = ApiServer(workers=1, threads=4, env=stream_env, log_path=tmp_path / "gunicorn.log")
    with served:
        yield served


@pytest.fixture
def key():
    return create_key("stream reader")[1]


def make_events(*names: str) -> list[int]:
    return [TGEEvent.objects.create(key=name.lower(), project=name, ticker=name[:3].upper(), confidence=0.9,
                                    is_candidate=False, published=True).pk for name in names]


def publish_through_worker(event_ids: list[int], worker) -> list[str]:
    """One notify message for a change of each event; returns the log ids the worker appended (in event id order)."""
    before = event_log.last_id()
    changes = [EventChange.objects.create(event_id=event_id, kind="new").pk for event_id in event_ids]
    tasks.notify.delay(change_ids=changes)
    deadline = time.monotonic() + 30
    while len(found := event_log.read_since(before, 100)) < len(event_ids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [m["id"] for _, m in found] == event_ids, worker.log_text()[-3000:]
    return [log_id for log_id, _ in found]


def read_events(client: httpx.Client, path: str, count: int, **headers: str) -> list:
    """The first ``count`` tge-events of one stream response, then the connection is dropped."""
    got = []
    with connect_sse(client, "GET", path, headers=headers) as source:
        assert source.response.status_code == 200
        assert source.response.headers["content-type"].startswith("text/event-stream")
        for sse in source.iter_sse():
            if sse.event == "tge-event":
                got.append(sse)
            if len(got) == count:
                break
    return got


def test_a_client_that_was_away_gets_exactly_what_it_missed_then_what_comes_next(server, key, start_worker,
                                                                                 stream_env):
    worker = start_worker(**stream_env)
    first, second, *missed, after = make_events("Quillstone", "Ferrowind", "Lumora", "Pax", "Vinter", "Orix")
    publish_through_worker([first], worker)  # before the client ever connects: not sent to a client without an id
    with httpx.Client(base_url=server.url, headers={"X-API-Key": key}, timeout=30) as client:
        with connect_sse(client, "GET", PATH) as source:
            events = source.iter_sse()
            assert next(events).retry == 2000  # the reconnection delay comes first
            [second_id] = publish_through_worker([second], worker)
            seen = next(e for e in events if e.event == "tge-event")
        assert (seen.id, seen.json()["id"]) == (second_id, second)

        missed_ids = publish_through_worker(missed, worker)  # the client is away

        publisher_ids = []
        got = []
        with connect_sse(client, "GET", PATH, headers={"Last-Event-ID": seen.id}) as source:
            events = source.iter_sse()
            while len(got) < len(missed):
                sse = next(events)
                assert sse.event != "reset"
                if sse.event == "tge-event":
                    got.append(sse)
            publisher_ids = publish_through_worker([after], worker)
            got.append(next(e for e in events if e.event == "tge-event"))
    assert [e.id for e in got] == missed_ids + publisher_ids
    assert [e.json()["id"] for e in got] == [*missed, after]
    assert [e.json()["project"] for e in got] == ["Lumora", "Pax", "Vinter", "Orix"]


def test_since_resumes_like_last_event_id_and_the_header_wins(server, key):
    ids = [event_log.append({"n": n}) for n in range(4)]
    with httpx.Client(base_url=server.url, headers={"X-API-Key": key}, timeout=30) as client:
        by_query = read_events(client, f"{PATH}?since={ids[0]}", 3)
        [by_header] = read_events(client, f"{PATH}?since={ids[0]}", 1, **{"Last-Event-ID": ids[2]})
    assert [e.id for e in by_query] == ids[1:] and [e.json() for e in by_query] == [{"n": 1}, {"n": 2}, {"n": 3}]
    assert by_header.id == ids[3]


def test_an_id_the_log_no_longer_holds_starts_with_a_reset(server, key):
    newest = event_log.append({"n": 0})
    future = f"{event_log.id_key(newest)[0] + 10**9}-0"
    with httpx.Client(base_url=server.url, headers={"X-API-Key": key}, timeout=30) as client:
        with connect_sse(client, "GET", PATH, headers={"Last-Event-ID": future}) as source:
            events = (e for e in source.iter_sse() if e.event != "message")  # the retry: frame
            first = next(events)
            later = event_log.append({"n": 1})
            then = next(events)
    assert first.event == "reset"
    assert (then.event, then.id, then.json()) == ("tge-event", later, {"n": 1})


def test_a_response_ends_after_its_lifetime_with_heartbeats_while_idle(server, key):
    began = time.monotonic()
    with httpx.Client(base_url=server.url, headers={"X-API-Key": key}, timeout=30) as client:
        with client.stream("GET", PATH) as response:
            body = "".join(response.iter_text())
    took = time.monotonic() - began
    assert 7 <= took < 15, took
    assert body.startswith("retry: 2000\n\n")
    assert body.count(": keep-alive\n\n") >= 5


HOSTILE = [("?since=abc", {}), ("?since=1-2-3", {}), (f"?since={2**64}-0", {}), ("?since=", {}), ("?since=%00", {}),
           ("?since=%EF%BC%91", {}), ("?since=1&since=2", {}), ("?after=1", {}), ("", {"Last-Event-ID": "1;DROP"}),
           ("", {"Last-Event-ID": "9" * 25}), ("", {"Last-Event-ID": ""})]


def test_hostile_resume_ids_are_a_400_that_names_them(server, key):
    for query, headers in HOSTILE:
        response = httpx.get(f"{server.url}{PATH}{query}", timeout=30,
                             headers={"X-API-Key": key, "Accept": "text/event-stream", **headers})
        assert response.status_code == 400, (query, headers, response.text)
        body = response.json()
        assert body["error"].startswith("The request is not valid") and body["detail"], body


def test_the_stream_needs_the_api_credentials(server):
    assert httpx.get(f"{server.url}{PATH}", headers={"Accept": "text/event-stream"}, timeout=30).status_code == 401
    assert httpx.get(f"{server.url}{PATH}", headers={"X-API-Key": "tge_" + "x" * 32}, timeout=30).status_code == 401


def test_an_unreachable_log_is_a_503_not_a_500(reader, config):
    from tgesweeper.bench.local_process import free_port

    config(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    response = reader.get(PATH, HTTP_ACCEPT="text/event-stream")
    assert response.status_code == 503
    assert response.json()["error"].startswith("The event log cannot be read")


@needs_redis
def test_a_log_that_fails_mid_stream_ends_the_response_for_the_client_to_reconnect(reader, config, stream_env):
    from tgesweeper.bench.local_process import free_port

    response = reader.get(PATH, HTTP_ACCEPT="text/event-stream")
    chunks = iter(response.streaming_content)
    assert next(chunks) == b"retry: 2000\n\n"
    config(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    assert list(chunks) == [b": the event log failed; reconnect\n\n"]
