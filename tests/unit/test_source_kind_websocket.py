"""The websocket kind's pure part: its options, the frames it sends, a message's documents, reconnect delays."""
import json
from datetime import datetime, timezone

import pytest

from tgesweeper.sources import InvalidOptions, kind_for
from tgesweeper.sources.websocket import (
    MAX_MESSAGE_BYTES,
    WebSocketSourceError,
    parse,
    parse_message,
    reconnect_delay,
    subscribe_frames,
)

STREAM = "wss://stream.exchange.example/ws"
OPTIONS = {"items": "data.articles", "title": "title", "id": "id", "body": "body", "date": "releaseDate",
           "date_format": "epoch_ms", "url": "https://exchange.example/a/{id}",
           "stream": {"url": STREAM, "subscribe": {"command": "SUBSCRIBE", "value": "news_en"}, "items": "data",
                      "when": {"type": "DATA"}}}
NOW = datetime(2026, 12, 1, 12, tzinfo=timezone.utc)
ANNOUNCEMENT = {"id": 7731, "title": "Kalomi (KALO) token generation event on December 9",
                "body": "Trading opens at 10:00 UTC.", "releaseDate": 1764590400000}


def message(payload: object, **top) -> bytes:
    return json.dumps({"type": "DATA", "topic": "news_en", "data": payload, **top}).encode()


def test_an_announcement_wrapped_in_a_json_string_becomes_a_document():
    [doc] = parse_message(message(json.dumps(ANNOUNCEMENT)), feed_url=STREAM, fetched_at=NOW, options=OPTIONS)
    assert doc.external_id == "7731" and doc.title == ANNOUNCEMENT["title"]
    assert doc.url == "https://exchange.example/a/7731" and doc.published_at == "2025-12-01T12:00:00+00:00"


def test_the_stream_and_the_list_give_one_announcement_the_same_id():
    listed = json.dumps({"data": {"articles": [ANNOUNCEMENT]}}).encode()
    [from_list] = parse(listed, feed_url="https://exchange.example/list", fetched_at=NOW, options=OPTIONS)
    [pushed] = parse(message([ANNOUNCEMENT]), feed_url=STREAM, fetched_at=NOW, options=OPTIONS)
    assert from_list.external_id == pushed.external_id == "7731"


def test_control_messages_the_when_keys_leave_out_give_nothing():
    ack = json.dumps({"type": "COMMAND", "subType": "SUBSCRIBE", "data": "SUCCESS"}).encode()
    assert parse_message(ack, feed_url=STREAM, fetched_at=NOW, options=OPTIONS) == []


@pytest.mark.parametrize(("body", "error"), [
    (b"not json {", "not JSON"),
    (b"[1, 2]", "not an object"),
    (message(42), "no announcement object"),
    (message('{"id": 1, "title": '), "announcement string is not JSON"),
    (b"[" * 50_000 + b"]" * 50_000, "nested too deeply"),
    (b'{"type": "DATA", "data": "' + b"x" * MAX_MESSAGE_BYTES + b'"}', "byte limit"),
])
def test_hostile_messages_raise_the_kinds_parse_error(body, error):
    with pytest.raises(WebSocketSourceError, match=error):
        parse_message(body, feed_url=STREAM, fetched_at=NOW, options=OPTIONS)


def test_subscribe_frames_are_sent_as_given():
    assert subscribe_frames(OPTIONS) == ['{"command": "SUBSCRIBE", "value": "news_en"}']
    two = {**OPTIONS, "stream": {**OPTIONS["stream"], "subscribe": ["PING", {"op": "sub"}]}}
    assert subscribe_frames(two) == ["PING", '{"op": "sub"}']


@pytest.mark.parametrize(("change", "problem"), [
    ({"stream": None}, '"stream" is required'),
    ({"stream": {**OPTIONS["stream"], "url": "https://exchange.example/ws"}}, "ws:// or wss://"),
    ({"stream": {**OPTIONS["stream"], "ping_interval": 0}}, "ping_interval"),
    ({"stream": {**OPTIONS["stream"], "subscribe": [1]}}, "subscribe"),
    ({"stream": {**OPTIONS["stream"], "when": {"type": {"nested": 1}}}}, "when"),
    ({"stream": {**OPTIONS["stream"], "topic": "x"}}, "unknown stream option 'topic'"),
    ({"title": None}, "'title' is required"),
])
def test_options_are_checked_and_each_problem_names_its_option(change, problem):
    options = {name: value for name, value in {**OPTIONS, **change}.items() if value is not None}  # None: left out
    with pytest.raises(InvalidOptions, match=problem):
        kind_for("websocket").check_options(options)


def test_reconnect_delays_back_off_exponentially_with_full_jitter_under_the_cap():
    delays = [[reconnect_delay(attempt, base=1.0, cap=30.0) for _ in range(200)] for attempt in range(8)]
    for attempt, seen in enumerate(delays):
        assert 0 <= min(seen) and max(seen) <= min(30.0, 2 ** attempt)
    assert max(delays[4]) > 8 and len({round(d, 3) for d in delays[4]}) > 100  # grows, and is spread
