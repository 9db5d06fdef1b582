"""The x kind against a local fake of the X API: documents, since_id, 429 reset, the shared budget, no token."""
from __future__ import annotations

import json
import time
from datetime import datetime, timezone

import pytest
from django.conf import settings
from django.core.cache import cache

from api.models import Source
from tgesweeper import net, throttle
from tgesweeper.bench.fake_x_api import TOKEN, FakeXAPI, reset_in
from tgesweeper.sources import SourceSpec, kind_for
from tgesweeper.sources.x_api import DEFAULT_QUERY, XParseError, parse_tweets
from workers import pipeline, tasks

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def x_api(config, allow_local):
    with FakeXAPI() as api:
        api.add_user("101", "lumenchain")
        api.add_user("202", "orbitdex")
        api.tweet(1001, "101", "Lumen TGE is set for March 20\nClaim opens at 14:00 UTC on the Lumen portal.")
        api.tweet(1002, "202", "OrbitDEX token generation event: $ORB goes live next week on three venues.")
        config(X_BEARER_TOKEN=TOKEN, X_API_BASE_URL=api.base_url)
        cache.delete(throttle.window_key("x-api", 900))
        yield api


def fetch(spec: SourceSpec):
    """As the fetch stage calls the kind: its budget, and the settings it declares, from the running settings."""
    kind = kind_for("x")
    return kind.fetch(spec, pipeline.fetch_policy(kind), pipeline.kind_config(kind))


def parse(fetched) -> list:
    return kind_for("x").parse(fetched.body, feed_url=fetched.url, fetched_at=NOW, max_items=100, options={})


def test_search_and_timelines_become_documents(x_api):
    spec = SourceSpec(id=1, name="X launches", kind="x", options={"accounts": ["@orbitdex"]})
    fetched = fetch(spec)
    documents = {d.external_id: d for d in parse(fetched)}

    assert set(documents) == {"x:1001", "x:1002"}
    lumen = documents["x:1001"]
    assert lumen.title == "Lumen TGE is set for March 20"
    assert lumen.text.startswith("Lumen TGE is set for March 20 Claim opens")
    assert lumen.url == "https://x.com/lumenchain/status/1001"
    assert lumen.author == "lumenchain"
    assert lumen.published_at == "2026-03-02T09:30:00+00:00" and not lumen.date_missing
    assert fetched.cursor == "1002"
    assert x_api.paths() == ["/2/tweets/search/recent", "/2/users/by", "/2/users/202/tweets"]
    search = x_api.log[0]
    assert search.params["query"] == DEFAULT_QUERY and "since_id" not in search.params
    assert all(entry.authorization == f"Bearer {TOKEN}" for entry in x_api.log)


def test_since_id_is_sent_and_nothing_is_read_twice(x_api):
    spec = SourceSpec(id=1, name="X launches", kind="x", query="TGE", options={"accounts": ["lumenchain"]})
    first = fetch(spec)
    assert {d.external_id for d in parse(first)} == {"x:1001", "x:1002"}

    x_api.tweet(1003, "101", "Lumen airdrop claim is now open")
    second = fetch(SourceSpec(**{**spec.__dict__, "cursor": first.cursor}))
    assert [d.external_id for d in parse(second)] == ["x:1003"]
    assert second.cursor == "1003"
    assert {e.params.get("since_id") for e in x_api.log[-3:] if "tweets" in e.path} == {"1002"}

    third = fetch(SourceSpec(**{**spec.__dict__, "cursor": second.cursor}))
    assert third.body is None and third.not_modified
    assert third.cursor == "1003"


def test_a_burst_larger_than_a_page_is_read_page_by_page_back_to_the_cursor(x_api):
    spec = SourceSpec(id=1, name="X launches", kind="x", options={"max_results": 10, "accounts": ["lumenchain"]})
    first = fetch(spec)
    for n in range(25):
        x_api.tweet(2000 + n, "101", f"Lumen TGE update {n}")
    x_api.log.clear()

    burst = fetch(SourceSpec(**{**spec.__dict__, "cursor": first.cursor}))
    assert {d.external_id for d in parse(burst)} == {f"x:{2000 + n}" for n in range(25)}
    assert burst.cursor == "2024"
    searches = [e.params for e in x_api.log if e.path == "/2/tweets/search/recent"]
    assert [s.get("next_token") for s in searches] == [None, "2015", "2005"]
    timelines = [e.params for e in x_api.log if e.path == "/2/users/101/tweets"]
    assert [t.get("pagination_token") for t in timelines] == [None, "2015", "2005"]


def test_the_first_fetch_reads_one_page_not_the_whole_backlog(x_api):
    for n in range(25):
        x_api.tweet(2000 + n, "101", f"Lumen TGE update {n}")
    fetched = fetch(SourceSpec(id=1, name="X launches", kind="x", options={"max_results": 10}))
    assert len(parse(fetched)) == 10 and x_api.paths() == ["/2/tweets/search/recent"]


def test_the_pipeline_keeps_the_cursor_on_the_source(x_api, db):
    source = Source.objects.create(name="X launches", kind="x", query="TGE")
    payload = pipeline.fetch(source.pk)
    assert len(pipeline.parse(payload)[0]["documents"]) == 2
    source.refresh_from_db()
    assert source.cursor == "1002" and source.failure_count == 0

    assert pipeline.fetch(source.pk) is None
    assert x_api.log[-1].params["since_id"] == "1002"
    source.refresh_from_db()
    assert source.cursor == "1002" and source.last_success_at is not None


def test_a_429_is_rate_limited_until_the_reset(x_api):
    x_api.rate_limit_reset = reset_in(600)
    with pytest.raises(net.RateLimited) as caught:
        fetch(SourceSpec(id=1, name="X launches", kind="x"))
    assert caught.value.transient
    assert 595 <= caught.value.retry_after <= 600
    assert "resets in" in caught.value.reason


def test_the_task_reschedules_a_429_for_the_reset_time(x_api, db, fetch_retry):
    source = Source.objects.create(name="X launches", kind="x")
    x_api.rate_limit_reset = reset_in(300)
    scheduled = fetch_retry
    started = time.monotonic()
    with pytest.raises(RuntimeError, match="retry"):
        tasks.fetch_source(source.pk)
    assert time.monotonic() - started < 5  # nobody slept until the reset
    assert 295 <= scheduled["countdown"] <= 302
    assert isinstance(scheduled["exc"], net.RateLimited)
    source.refresh_from_db()
    assert source.failure_count == 0


def test_a_reset_centuries_away_is_put_off_only_until_the_cap(x_api, db, fetch_retry):
    """A huge x-rate-limit-reset used to become a countdown of ~3,000 years: redelivered by Redis every hour."""
    source = Source.objects.create(name="X launches", kind="x")
    x_api.rate_limit_reset = 99999999999
    scheduled = fetch_retry
    with pytest.raises(RuntimeError, match="retry"):
        tasks.fetch_source(source.pk)
    assert scheduled["countdown"] < settings.CONFIG["CELERY_VISIBILITY_TIMEOUT"]
    assert scheduled["countdown"] == settings.CONFIG["CELERY_VISIBILITY_TIMEOUT"] - tasks.RETRY_MARGIN  # the cap
    assert scheduled["kwargs"]["deferrals"] == 1 and isinstance(scheduled["exc"], net.RateLimited)
    source.refresh_from_db()
    assert source.failure_count == 0


@pytest.mark.parametrize("reset", ["9" * 5000, "\u00b2", "-1", "soon"])
def test_a_reset_that_is_no_time_falls_back_to_a_minute(x_api, reset):
    """``int()`` refuses 5,000 digits and "²" (which ``str.isdigit`` passes): that was a crash of the fetch."""
    x_api.rate_limit_reset = reset
    with pytest.raises(net.RateLimited) as caught:
        fetch(SourceSpec(id=1, name="X launches", kind="x"))
    assert caught.value.retry_after == 60.0


def test_without_a_usable_reset_the_retry_after_header_counts_even_when_it_is_zero(x_api):
    x_api.rate_limit_reset, x_api.retry_after = "soon", "0"
    with pytest.raises(net.RateLimited) as caught:
        fetch(SourceSpec(id=1, name="X launches", kind="x"))
    assert caught.value.retry_after == 0.0


def test_the_shared_budget_stops_requests_before_the_api_does(x_api, config):
    config(X_RATE_LIMIT_REQUESTS=2, X_RATE_LIMIT_WINDOW=900)
    spec = SourceSpec(id=1, name="X launches", kind="x", options={"accounts": ["lumenchain"]})
    with pytest.raises(net.RateLimited) as caught:
        fetch(spec)
    assert len(x_api.log) == 2  # search and user lookup spent the budget; the timeline never left
    assert 0 < caught.value.retry_after <= 900
    assert "budget" in caught.value.reason


def test_no_token_means_not_configured_not_failing(x_api, config, db):
    config(X_BEARER_TOKEN="")
    source = Source.objects.create(name="X launches", kind="x")
    assert pipeline.fetch(source.pk) is None
    source.refresh_from_db()
    assert source.last_error == "not configured: X_BEARER_TOKEN is not set"
    assert source.failure_count == 0 and source.last_failure_at is None
    assert source.not_configured
    assert x_api.log == []


def test_a_refused_token_is_a_permanent_error(x_api, config):
    config(X_BEARER_TOKEN="wrong")
    with pytest.raises(net.HTTPStatusError) as caught:
        fetch(SourceSpec(id=1, name="X launches", kind="x"))
    assert caught.value.status == 401 and not caught.value.transient


def test_the_api_host_is_checked_like_any_url(x_api, config):
    config(SCRAPING_ALLOW_PRIVATE_NETWORKS=False)
    with pytest.raises(net.BlockedURL):
        fetch(SourceSpec(id=1, name="X launches", kind="x"))
    assert x_api.log == []


def test_parse_is_pure_and_refuses_garbage():
    long_line = "word " * 60
    body = json.dumps({"tweets": [
        {"id": "7", "text": long_line + "\nsecond line", "author": "someone", "created_at": "not a date",
         "url": "https://x.com/someone/status/7"},
        {"id": "not-an-id", "text": "dropped"},
    ]}).encode()
    [document] = parse_tweets(body, feed_url="https://api.twitter.com", fetched_at=NOW)
    assert len(document.title) <= 150 and document.title.startswith("word word")
    assert document.text.endswith("second line")
    assert document.date_missing and document.published_at == NOW.isoformat()
    with pytest.raises(XParseError):
        parse_tweets(b"<html>", feed_url="", fetched_at=NOW)


def test_parse_drops_lone_surrogates_from_every_field():
    """The API's JSON may escape a lone surrogate (lang is packed as the API sent it): it must not reach the database."""
    body = json.dumps({"tweets": [{"id": "8", "text": "\ud800 TGE today", "author": "some\udfffone",
                                   "lang": "e\ud800n", "created_at": "2026-03-02T09:30:00+00:00",
                                   "url": "https://x.com/someone/status/8\ud800"}]}).encode()
    [document] = parse_tweets(body, feed_url="https://api.twitter.com", fetched_at=NOW)
    assert (document.title, document.author, document.lang) == ("TGE today", "someone", "en")
    assert document.url == "https://x.com/someone/status/8"
    for value in document.to_dict().values():
        if isinstance(value, str):
            value.encode("utf-8")
