"""net.fetch against hostile servers on 127.0.0.1 (hostile input, and a server that stalls).

Only the test server's own address is allowed (``allow_addresses``), so every other guard stays armed.
Deadlines are about a second, so a guard that fails to fire fails the test quickly.
"""
import email.utils
import gzip
import time
import tracemalloc
import zlib
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from tgesweeper import net
from tgesweeper.bench.feedserver import FeedServer

MiB = 1024 * 1024


@pytest.fixture
def policy(feed_server):
    """Limits small enough to trip quickly; only this test's server is reachable."""
    return net.FetchPolicy(connect_timeout=1.0, read_timeout=1.0, total_timeout=1.0, max_bytes=1 * MiB,
                           allow_addresses=frozenset({feed_server.address}))


def drip(server, handler, data: bytes, pause: float) -> None:
    """Write ``data`` one byte at a time until the client hangs up or the server stops."""
    for byte in data:
        if server.stopping.wait(pause):
            return
        try:
            handler.wfile.write(bytes([byte]))
            handler.wfile.flush()
        except OSError:
            return


def endless(server, handler, chunk: bytes, *, chunked: bool = False) -> None:
    while not server.stopping.is_set():
        try:
            handler.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
        except OSError:
            return


# --- time ---------------------------------------------------------------------------------------------

def test_a_body_dripping_slower_than_the_deadline_times_out_quickly(feed_server, policy):
    def slow_body(handler):
        handler.send_response(200)
        handler.send_header("Content-Length", "1000")
        handler.end_headers()
        drip(feed_server, handler, b"x" * 1000, 0.05)

    feed_server.add_route("/slow", slow_body)
    started = time.monotonic()
    with pytest.raises(net.FetchTimeout, match="total deadline") as caught:
        net.fetch(feed_server.url("/slow"), policy=policy)
    assert time.monotonic() - started < 2.5
    assert caught.value.transient


def test_headers_dripping_slower_than_the_deadline_time_out_quickly(feed_server, policy):
    def slow_headers(handler):
        handler.close_connection = True
        drip(feed_server, handler, b"HTTP/1.1 200 OK\r\nX-Padding: " + b"y" * 500 + b"\r\n\r\n", 0.05)

    feed_server.add_route("/slow-headers", slow_headers)
    started = time.monotonic()
    with pytest.raises(net.FetchTimeout):
        net.fetch(feed_server.url("/slow-headers"), policy=policy)
    assert time.monotonic() - started < 2.5


# --- size -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("chunked", [False, True], ids=["close-delimited", "chunked"])
def test_an_endless_body_stops_at_the_cap(feed_server, policy, chunked):
    def forever(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", "application/rss+xml")
        if chunked:
            handler.send_header("Transfer-Encoding", "chunked")
        else:
            handler.send_header("Connection", "close")
            handler.close_connection = True
        handler.end_headers()
        endless(feed_server, handler, b"<item>" + b"z" * 8186 + b"</item>", chunked=chunked)

    feed_server.add_route("/endless", forever)
    with pytest.raises(net.BodyTooLarge, match="larger than 1,048,576 bytes"):
        net.fetch(feed_server.url("/endless"), policy=replace(policy, total_timeout=10.0))


def test_a_declared_length_over_the_cap_is_refused_before_reading(feed_server, policy):
    def huge(handler):
        handler.send_response(200)
        handler.send_header("Content-Length", str(50 * MiB))
        handler.end_headers()
        drip(feed_server, handler, b"x" * 10, 0.5)

    feed_server.add_route("/huge", huge)
    started = time.monotonic()
    with pytest.raises(net.BodyTooLarge):
        net.fetch(feed_server.url("/huge"), policy=policy)
    assert time.monotonic() - started < 0.9


@pytest.fixture(scope="module")
def bombs() -> dict[str, bytes]:
    zeros = b"\0" * (64 * MiB)
    return {"gzip": gzip.compress(zeros, 9), "deflate": zlib.compress(zeros, 9)}


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_a_compression_bomb_stops_at_the_decompressed_cap_in_bounded_memory(feed_server, policy, bombs, encoding):
    bomb = bombs[encoding]
    assert len(bomb) < 200_000

    def send_bomb(handler):
        handler.send_response(200)
        handler.send_header("Content-Encoding", encoding)
        handler.send_header("Content-Length", str(len(bomb)))
        handler.end_headers()
        handler.wfile.write(bomb)

    feed_server.add_route("/bomb", send_bomb)
    tracemalloc.start()
    try:
        with pytest.raises(net.BodyTooLarge, match="after decompression"):
            net.fetch(feed_server.url("/bomb"), policy=replace(policy, total_timeout=10.0))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 * MiB  # the 64 MiB it inflates to never exists at once


def test_a_small_gzip_body_is_decompressed(feed_server, policy):
    payload = b"<rss>" + b"fine " * 1000 + b"</rss>"

    def send(handler):
        body = gzip.compress(payload)
        handler.send_response(200)
        handler.send_header("Content-Encoding", "gzip")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    feed_server.add_route("/small.gz", send)
    assert net.fetch(feed_server.url("/small.gz"), policy=policy).body == payload


# --- redirects ------------------------------------------------------------------------------------

def redirect(location: str):
    def handler(h):
        h.send_response(302)
        h.send_header("Location", location)
        h.send_header("Content-Length", "0")
        h.end_headers()

    return handler


@pytest.mark.parametrize("target", [
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.7/admin",
    "http://[::1]/",
    "http://2130706433/",
    "file:///etc/passwd",
])
def test_a_redirect_to_a_private_address_is_refused_even_from_an_allowed_host(feed_server, policy, target):
    feed_server.add_route("/go", redirect(target))
    with pytest.raises(net.BlockedURL):
        net.fetch(feed_server.url("/go"), policy=policy)
    assert feed_server.hits["/go"] == 1


def test_a_redirect_to_another_local_server_never_reaches_it(feed_server, policy):
    with FeedServer() as other:
        other.add("/secret", b"internal only")
        feed_server.add_route("/go", redirect(other.url("/secret")))
        with pytest.raises(net.BlockedURL, match="not a public internet address"):
            net.fetch(feed_server.url("/go"), policy=policy)
        assert other.hits["/secret"] == 0


def test_more_than_five_redirects_are_refused(feed_server, policy):
    for hop in range(10):
        feed_server.add_route(f"/hop/{hop}", redirect(f"/hop/{hop + 1}"))
    with pytest.raises(net.BlockedURL, match="too many redirects"):
        net.fetch(feed_server.url("/hop/0"), policy=policy)
    assert sum(feed_server.hits[f"/hop/{hop}"] for hop in range(10)) == 6


def test_five_redirects_are_followed(feed_server, policy):
    for hop in range(5):
        feed_server.add_route(f"/hop/{hop}", redirect(f"/hop/{hop + 1}"))
    feed_server.add("/hop/5", b"<rss/>")
    result = net.fetch(feed_server.url("/hop/0"), policy=policy)
    assert result.body == b"<rss/>" and result.url == feed_server.url("/hop/5")


# --- addresses -----------------------------------------------------------------------------------

@pytest.mark.parametrize("url", [
    "http://127.0.0.1/",
    "http://2130706433/",              # decimal
    "http://0177.0.0.1/",              # octal
    "http://0x7f.1/",                  # hex, short form
    "http://0x7f000001/",
    "http://127.1/",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",      # IPv4-mapped
    "http://[::ffff:7f00:1]/",
    "http://[::127.0.0.1]/",           # IPv4-compatible
    "http://localhost/",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.64.0.1/",              # carrier-grade NAT
    "http://10.1.2.3/",
    "http://172.16.0.1/",
    "http://192.168.0.1/",
    "http://0.0.0.0/",
    "http://[::]/",
    "http://224.0.0.1/",               # multicast
    "http://[fe80::1]/",               # link-local
    "http://[fc00::1]/",               # unique local
    "http://[2002:7f00:1::]/",         # 6to4 around loopback
    "http://[64:ff9b::a00:1]/",        # NAT64 around 10.0.0.1
    "http://240.0.0.1/",               # reserved
])
def test_private_addresses_are_refused_in_every_spelling(url):
    with pytest.raises(net.BlockedURL, match="not a public internet address"):
        net.check_url(url)


@pytest.mark.parametrize("url", ["ftp://example.com/feed", "file:///etc/passwd", "gopher://127.0.0.1:70/",
                                 "javascript:alert(1)", "http:///no-host"])
def test_only_http_and_https_urls_with_a_host_are_fetched(url):
    with pytest.raises(net.BlockedURL):
        net.check_url(url)


def test_the_allow_list_admits_exactly_the_listed_peer(feed_server):
    feed_server.add("/feed.xml", b"<rss/>")
    with pytest.raises(net.BlockedURL):
        net.fetch(feed_server.url("/feed.xml"), policy=net.FetchPolicy(total_timeout=1.0))
    other_port = net.FetchPolicy(total_timeout=1.0, allow_addresses=frozenset({f"127.0.0.1:{feed_server.port + 1}"}))
    with pytest.raises(net.BlockedURL):
        net.fetch(feed_server.url("/feed.xml"), policy=other_port)
    assert feed_server.hits["/feed.xml"] == 0


# --- status codes --------------------------------------------------------------------------------

def answer(status: int, headers: dict[str, str]):
    def handler(h):
        h.send_response(status)
        for name, value in headers.items():
            h.send_header(name, value)
        h.send_header("Content-Length", "0")
        h.end_headers()

    return handler


def test_429_with_retry_after_seconds_is_transient_with_the_delay(feed_server, policy):
    feed_server.add_route("/busy", answer(429, {"Retry-After": "120"}))
    with pytest.raises(net.HTTPStatusError) as caught:
        net.fetch(feed_server.url("/busy"), policy=policy)
    assert caught.value.status == 429 and caught.value.transient
    assert caught.value.retry_after == 120


def test_503_with_retry_after_http_date_is_transient_with_the_delay(feed_server, policy):
    when = email.utils.format_datetime(datetime.now(timezone.utc) + timedelta(seconds=90), usegmt=True)
    feed_server.add_route("/down", answer(503, {"Retry-After": when}))
    with pytest.raises(net.HTTPStatusError) as caught:
        net.fetch(feed_server.url("/down"), policy=policy)
    assert caught.value.status == 503 and caught.value.transient
    assert 85 <= caught.value.retry_after <= 90


@pytest.mark.parametrize("value", ["inf", "Infinity", "-inf", "nan", "1e400", "-5", "-0.5", "soon", ""])
def test_a_retry_after_that_is_no_wait_is_absent(value):
    """``inf`` used to come back as inf and overflow Celery's ETA arithmetic; a negative wait meant 0."""
    assert net.parse_retry_after(value) is None


def test_a_huge_retry_after_is_kept_finite_for_the_task_to_cap():
    now = datetime(2026, 11, 30, tzinfo=timezone.utc)
    assert net.parse_retry_after("99999999999", now=now) == 99999999999.0
    far = net.parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now=now)
    assert far is not None and 2.5e11 < far < 2.6e11
    assert net.parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=now) == 0.0  # a past date: now


def test_429_with_retry_after_inf_has_no_delay_and_a_readable_reason(feed_server, policy):
    feed_server.add_route("/busy", answer(429, {"Retry-After": "inf"}))
    with pytest.raises(net.RateLimited) as caught:
        net.fetch(feed_server.url("/busy"), policy=policy)
    assert caught.value.retry_after is None and "inf" not in caught.value.reason


def test_404_is_permanent(feed_server, policy):
    with pytest.raises(net.HTTPStatusError) as caught:
        net.fetch(feed_server.url("/missing"), policy=policy)
    assert caught.value.status == 404 and not caught.value.transient and caught.value.retry_after is None


def test_conditional_get_answers_304_with_no_body(feed_server, policy):
    feed_server.add("/feed.xml", b"<rss>same</rss>")
    first = net.fetch(feed_server.url("/feed.xml"), policy=policy)
    assert first.status == 200 and first.etag and first.last_modified
    by_etag = net.fetch(feed_server.url("/feed.xml"), policy=policy, etag=first.etag)
    by_date = net.fetch(feed_server.url("/feed.xml"), policy=policy, last_modified=first.last_modified)
    for again in (by_etag, by_date):
        assert again.status == 304 and again.not_modified and again.body == b""
    assert feed_server.not_modified["/feed.xml"] == 2
    feed_server.add("/feed.xml", b"<rss>changed</rss>")
    assert net.fetch(feed_server.url("/feed.xml"), policy=policy, etag=first.etag).body == b"<rss>changed</rss>"


def test_post_sends_the_body_and_refuses_to_follow_a_redirect():
    from tgesweeper.bench.webhook_receiver import WebhookReceiver

    local = net.FetchPolicy(allow_private=True)
    with WebhookReceiver() as receiver:
        receiver.answer("/moved", (307, {"Location": receiver.url("/elsewhere")}))
        assert net.post(receiver.url("/hook"), b'{"a": 1}', headers={"X-Test": "1"}, policy=local).status == 204
        with pytest.raises(net.HTTPStatusError) as refused:
            net.post(receiver.url("/moved"), b"{}", headers={}, policy=local)
        with pytest.raises(net.BlockedURL):
            net.post(receiver.url("/hook"), b"{}", headers={})  # the default policy refuses 127.0.0.1
    [hook] = receiver.at("/hook")
    assert (hook.body, hook.headers["x-test"]) == (b'{"a": 1}', "1")
    assert refused.value.status == 307 and not refused.value.transient
    assert receiver.at("/elsewhere") == []
