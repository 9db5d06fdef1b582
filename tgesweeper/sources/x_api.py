"""X (Twitter) API v2 through tweepy: recent search and watched accounts' timelines -> NormalizedDocuments.

tweepy builds the requests; every one of them goes through ``tgesweeper.net`` (URL and peer checks, the shared
``before_request`` budget, timeouts, body cap) on a guarded session, at ``X_API_BASE_URL``. A 429 becomes
``net.RateLimited`` with the seconds until ``x-rate-limit-reset``, so the task is rescheduled for the reset
instead of a worker sleeping (tweepy's ``wait_on_rate_limit`` stays off).

The newest tweet id read is the source's cursor and the next fetch asks only for newer ones (``since_id``);
ids are time-ordered snowflakes, so one cursor serves the search and every timeline of the source. With a cursor,
a burst of more tweets than one page is read page by page back to it (at most MAX_PAGES pages per search or
timeline), so moving the cursor to the newest does not skip the rest of the burst.

A source with ``"stream": true`` is also read from X's filtered stream when the token's access level has it: one
rule per source (``stream_rule``: what its polls read), tagged with its id, on the app's one stream connection, which
the push consumer holds (``GuardedStream``). Its polls go on at the source's interval whatever the stream does.
"""
from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import requests
import tweepy
from tweepy.streaming import BaseStream

from tgesweeper import net
from tgesweeper.sources import NO_CONFIG, Fetched, SourceKind, SourceSpec
from tgesweeper.sources.documents import NormalizedDocument
from tgesweeper.sources.fields import MAX_AUTHOR_CHARS, MAX_TEXT_CHARS, absolute_url, clean_text, utc

DEFAULT_QUERY = '("TGE" OR "token generation event" OR "airdrop claim" OR "token launch") -is:retweet'
USERNAME = re.compile(r"^[A-Za-z0-9_]{1,15}$")
TWEET_ID = re.compile(r"^[0-9]{1,20}$")
EPOCH_SECONDS = re.compile(r"^[0-9]{1,15}$")  # ASCII digits only: str.isdigit() also passes "²", which int() refuses
MAX_QUERY_CHARS = 512
MAX_ACCOUNTS = 100
MAX_RESULTS_RANGE = (10, 100)
DEFAULT_MAX_RESULTS = 50
MAX_PAGES = 5
TWEET_TITLE_CHARS = 150  # a tweet's title is its first line, cut shorter than an article's
TWEET_FIELDS = ["created_at", "author_id", "lang"]
STREAM_PATH = "/2/tweets/search/stream"
RULE_TAG = "tge-sweeper source "  # + the source id: the filtered-stream rules this product owns
MAX_RULE_CHARS = 512  # the filtered stream's rule length limit at the lowest access level that has it
STREAM_IDLE_SECONDS = 30.0  # X sends a keep-alive every 20 s: silence this long means the connection is gone


class XParseError(Exception):
    """The packed tweets cannot be read (they come from our own fetch, so this means a bug or tampering)."""


def option_problems(options: dict, query: str = "") -> dict[str, list[str]]:
    """What is wrong with an x source's query and options; empty when it can be fetched."""
    query_errors, errors = [], []
    if len(query) > MAX_QUERY_CHARS:
        query_errors.append(f"the query is {len(query)} characters; the X API accepts at most {MAX_QUERY_CHARS}")
    accounts = options.get("accounts", [])
    if not isinstance(accounts, list) or not all(isinstance(a, str) for a in accounts):
        errors.append('"accounts" must be a list of X user names, e.g. ["binance", "okx"]')
    else:
        bad = [a for a in accounts if not USERNAME.match(a.lstrip("@"))]
        if bad:
            errors.append(f"not X user names (letters, digits, _; at most 15): {', '.join(map(repr, bad[:5]))}")
        if len(accounts) > MAX_ACCOUNTS:
            errors.append(f"at most {MAX_ACCOUNTS} accounts per source")
    max_results = options.get("max_results", DEFAULT_MAX_RESULTS)
    low, high = MAX_RESULTS_RANGE
    if isinstance(max_results, bool) or not isinstance(max_results, int) or not low <= max_results <= high:
        errors.append(f'"max_results" must be an integer from {low} to {high}')
    search = options.get("search", True)
    if not isinstance(search, bool):
        errors.append('"search" must be true or false')
    elif not search and not accounts:
        errors.append('with "search": false the source needs "accounts" to read')
    stream = options.get("stream", False)
    if not isinstance(stream, bool):
        errors.append('"stream" must be true or false')
    elif stream and not errors and not query_errors and len(stream_rule(query, options)) > MAX_RULE_CHARS:
        errors.append(f"the filtered-stream rule made of the query and accounts is longer than {MAX_RULE_CHARS} "
                      'characters: shorten them, or leave "stream" off')
    unknown = set(options) - set(OPTIONS_SCHEMA["properties"])
    if unknown:
        errors.append(f"unknown options for an x source: {', '.join(sorted(unknown))}")
    return {"query": query_errors, "options": errors}


# --- fetch -----------------------------------------------------------------------------------------

class _GuardedRequests:
    """tweepy's HTTP replaced: our base URL, our session, our policy (one deadline for all of a fetch's requests),
    our errors. For tweepy's v2 client and its streaming client alike."""

    bearer_token: str

    def _guard(self, base_url: str, policy: net.FetchPolicy) -> None:
        self.session = net.guarded_session()
        self.base_url = base_url.rstrip("/")
        self.policy = policy
        self.deadline = time.monotonic() + policy.total_timeout
        self.requests_made = 0

    def request(self, method, route, params=None, json=None, user_auth=False):
        if user_auth:
            raise net.NotConfigured("X user-context endpoints are not used: only an app bearer token is configured")
        url = self.base_url + route
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise net.FetchTimeout(f"X fetch took longer than {self.policy.total_timeout:g}s", url=url)
        self.requests_made += 1
        response = net.request(
            self.session, method, url, policy=replace(self.policy, total_timeout=remaining),
            params=params, json=json,
            headers={"User-Agent": self.policy.user_agent, "Authorization": f"Bearer {self.bearer_token}"})
        if response.status_code == 429:
            raise _rate_limited(response, url)
        if response.status_code in (401, 403):
            raise net.HTTPStatusError(f"X API refused the bearer token (HTTP {response.status_code}) for {route}",
                                      status=response.status_code, url=url)
        if not 200 <= response.status_code < 300:
            retry_after = net.parse_retry_after(response.headers.get("Retry-After"))
            raise net.HTTPStatusError(f"HTTP {response.status_code} from X API {route}",
                                      status=response.status_code, url=url, retry_after=retry_after)
        return response

    def _make_request(self, *args, **kwargs):
        try:
            return super()._make_request(*args, **kwargs)
        except requests.JSONDecodeError:
            raise net.FetchError("X API answered with something that is not JSON", transient=True) from None


class GuardedClient(_GuardedRequests, tweepy.Client):
    """tweepy's v2 client, guarded: recent search, users and their timelines."""

    def __init__(self, bearer_token: str, *, base_url: str, policy: net.FetchPolicy):
        tweepy.Client.__init__(self, bearer_token=bearer_token, return_type=dict, wait_on_rate_limit=False)
        self._guard(base_url, policy)


class GuardedStream(_GuardedRequests, tweepy.StreamingClient):
    """tweepy's filtered stream, guarded: its rules as any X request, the stream through ``net.http_stream`` on the
    guarded session. tweepy's own reconnect loop is off (the push consumer owns backoff): a refused or dropped
    connection ends ``run`` with the reason raised. ``on_line`` takes each non-empty line; ``on_connect`` runs once
    the stream answered 200."""

    def __init__(self, bearer_token: str, *, base_url: str, policy: net.FetchPolicy,
                 on_line: Callable[[bytes], None], on_connect: Callable[[], None] = lambda: None):
        tweepy.StreamingClient.__init__(self, bearer_token, return_type=dict, wait_on_rate_limit=False, max_retries=0)
        self._guard(base_url, policy)
        self.url = f"{self.base_url}{STREAM_PATH}"
        self.on_line, self.on_connected = on_line, on_connect
        self.failure: Exception | None = None

    def sync_rules(self, wanted: dict[str, str]) -> None:
        """Make the app's rules tagged as ours exactly ``wanted`` (tag -> rule); other rules of the app stay."""
        self.deadline = time.monotonic() + self.policy.total_timeout
        ours = {str(r.get("tag")): r for r in _records(self.get_rules(), "data")
                if str(r.get("tag", "")).startswith(RULE_TAG)}
        stale = [str(r.get("id")) for tag, r in ours.items() if wanted.get(tag) != r.get("value")]
        if stale:
            self.delete_rules(stale)
        missing = [tweepy.StreamRule(value, tag=tag) for tag, value in wanted.items()
                   if tag not in ours or ours[tag].get("value") != value]
        if missing:
            answer = self.add_rules(missing)
            errors = answer.get("errors") if isinstance(answer, dict) else None
            if errors:
                raise net.FetchError(f"X refused a filtered-stream rule: {str(errors)[:300]}")

    def run(self) -> None:
        """Hold the stream until ``disconnect()`` or a failure, which is raised."""
        self.failure = None
        self.filter(expansions=["author_id"], tweet_fields=TWEET_FIELDS, user_fields=["username"])
        if self.failure is not None:
            raise self.failure

    def _connect(self, method, endpoint, **kwargs):
        self.session.headers["Authorization"] = f"Bearer {self.bearer_token}"
        self.user_agent = self.policy.user_agent
        try:
            with net.http_stream(self.url, policy=self.policy):
                BaseStream._connect(self, method, self.url,
                                    timeout=(self.policy.connect_timeout, STREAM_IDLE_SECONDS), **kwargs)
        except net.FetchError as exc:
            self.failure = exc

    def _fail(self, failure: Exception) -> None:
        if self.running:  # after our own disconnect() the end of the stream is no failure
            self.failure = self.failure or failure
            self.disconnect()

    def on_connect(self):
        self.on_connected()

    def on_data(self, raw_data):
        self.on_line(raw_data)

    def on_request_error(self, status_code):
        if status_code == 429:
            self._fail(net.RateLimited("X refused the filtered stream (HTTP 429: too many connections or requests)",
                                       url=self.url, retry_after=None))
        else:
            self._fail(net.HTTPStatusError(f"X refused the filtered stream (HTTP {status_code}"
                                           f"{': the token has no filtered-stream access' if status_code == 403 else ''})",
                                           status=status_code, url=self.url))

    def on_connection_error(self):
        self._fail(net.ConnectionFailed("the X filtered stream dropped or went silent", url=self.url))

    def on_closed(self, response):
        self._fail(net.ConnectionFailed("X closed the filtered stream", url=self.url))

    def on_exception(self, exception):
        self._fail(exception)


def _rate_limited(response: requests.Response, url: str) -> net.RateLimited:
    reset = response.headers.get("x-rate-limit-reset", "").strip()
    if EPOCH_SECONDS.match(reset):  # a reset centuries away stays as it is: the task caps its countdown
        retry_after = max(0.0, int(reset) - time.time())
    else:
        hinted = net.parse_retry_after(response.headers.get("Retry-After"))
        retry_after = 60.0 if hinted is None else hinted  # no hint at all: a minute; 0 means now
    return net.RateLimited(f"X API rate limit reached (HTTP 429); quota resets in {retry_after:.0f}s",
                           url=url, retry_after=retry_after)


def fetch_x(spec: SourceSpec, policy: net.FetchPolicy, config: Mapping[str, object] = NO_CONFIG) -> Fetched:
    """Read what is new since the cursor: the search, then each watched account's timeline.

    ``config`` holds the settings named in ``KIND.config_keys`` (the worker passes them in)."""
    token = config.get("X_BEARER_TOKEN")
    if not token:
        raise net.NotConfigured("X_BEARER_TOKEN is not set")
    client = GuardedClient(str(token), base_url=str(config["X_API_BASE_URL"]), policy=policy)
    options = spec.options or {}
    since_id = spec.cursor if TWEET_ID.match(spec.cursor or "") else None
    max_results = _clamp(options.get("max_results", DEFAULT_MAX_RESULTS))
    tweets: dict[str, dict] = {}

    accounts = [a.lstrip("@") for a in options.get("accounts", []) if USERNAME.match(a.lstrip("@"))]
    if options.get("search", True):
        for answer in _pages(client.search_recent_tweets, "next_token", _query(spec.query), since_id=since_id,
                             max_results=max_results, expansions=["author_id"], tweet_fields=TWEET_FIELDS,
                             user_fields=["username"]):
            _collect(answer, tweets, _usernames(answer))
    if accounts:
        users = client.get_users(usernames=accounts, user_fields=["username"])
        for user in _records(users, "data"):
            if not (TWEET_ID.match(str(user.get("id", ""))) and USERNAME.match(str(user.get("username", "")))):
                continue
            for answer in _pages(client.get_users_tweets, "pagination_token", user["id"], since_id=since_id,
                                 max_results=max_results, exclude=["retweets"], expansions=["author_id"],
                                 tweet_fields=TWEET_FIELDS, user_fields=["username"]):
                _collect(answer, tweets, {user["id"]: user["username"], **_usernames(answer)})

    newest = max([int(since_id or 0), *(int(i) for i in tweets)])
    cursor = str(newest) if newest else None
    url = f"{client.base_url}/2/tweets/search/recent"
    if not tweets:
        return Fetched(url=url, body=None, cursor=cursor)
    ordered = sorted(tweets.values(), key=lambda t: int(t["id"]), reverse=True)
    body = json.dumps({"tweets": ordered}, ensure_ascii=False).encode("utf-8")
    return Fetched(url=url, body=body, cursor=cursor)


def stream_rule(query: str, options: dict) -> str:
    """The filtered-stream rule that selects what the source's polls read: its search, its accounts' tweets, or both."""
    parts = [_query(query)] if options.get("search", True) else []
    accounts = [a.lstrip("@") for a in options.get("accounts", []) if USERNAME.match(str(a).lstrip("@"))]
    if accounts:
        parts.append(f"({' OR '.join(f'from:{a}' for a in accounts)}) -is:retweet")
    return parts[0] if len(parts) == 1 else " OR ".join(f"({part})" for part in parts)


def rule_tag(source_id: int) -> str:
    return f"{RULE_TAG}{source_id}"


@dataclass(frozen=True)
class StreamedTweet:
    """A tweet from the filtered stream: packed as the kind's parse reads it, and the sources whose rules it matched."""

    tweet_id: str
    body: bytes
    source_ids: list[int]


def stream_message(line: bytes) -> StreamedTweet | None:
    """One line of the filtered stream; None for a line without a usable tweet (an error report, say)."""
    try:
        message = json.loads(line)
    except ValueError:
        raise XParseError("a filtered-stream line that is not JSON") from None
    if not isinstance(message, dict):
        raise XParseError("a filtered-stream line that is not a JSON object")
    tweets: dict[str, dict] = {}
    try:
        tweet = message.get("data")
        _collect({"data": [tweet] if isinstance(tweet, dict) else []}, tweets, _usernames(message))
        rules = _records(message, "matching_rules")
    except net.FetchError as exc:
        raise XParseError(f"a filtered-stream line of an unexpected shape: {exc.reason}") from None
    sources = sorted({int(tag[len(RULE_TAG):]) for rule in rules if isinstance(tag := rule.get("tag"), str)
                      and tag.startswith(RULE_TAG) and tag[len(RULE_TAG):].isascii() and tag[len(RULE_TAG):].isdigit()})
    if not tweets:
        return None
    (tweet_id, packed), = tweets.items()
    return StreamedTweet(tweet_id, json.dumps({"tweets": [packed]}, ensure_ascii=False).encode("utf-8"), sources)


def _pages(call, token_param: str, *args, since_id: str | None, **params):
    """The answers of one search or timeline: a single page on the first fetch (no backlog), otherwise page after
    page back to ``since_id``, at most MAX_PAGES."""
    token = None
    for _ in range(MAX_PAGES if since_id else 1):
        answer = call(*args, since_id=since_id, **params, **({token_param: token} if token else {}))
        yield answer
        meta = answer.get("meta") if isinstance(answer, dict) else None
        token = meta.get("next_token") if isinstance(meta, dict) else None
        if not isinstance(token, str) or not token:
            return


def _query(query: str) -> str:
    query = (query or "").strip()
    if not query:
        return DEFAULT_QUERY
    return query if "is:retweet" in query else f"({query}) -is:retweet"


def _clamp(value) -> int:
    low, high = MAX_RESULTS_RANGE
    return min(high, max(low, value)) if isinstance(value, int) and not isinstance(value, bool) else DEFAULT_MAX_RESULTS


def _records(answer, *path: str) -> list[dict]:
    """The dicts at ``path`` of an API answer; an answer of the wrong shape is an error, not a crash."""
    node = answer
    for key in path:
        if not isinstance(node, dict):
            raise net.FetchError(f"X API answer has an unexpected shape at {'.'.join(path)}", transient=True)
        node = node.get(key) or ([] if key == path[-1] else {})
    if not isinstance(node, list):
        raise net.FetchError(f"X API answer has an unexpected shape at {'.'.join(path)}", transient=True)
    return [item for item in node if isinstance(item, dict)]


def _usernames(answer) -> dict[str, str]:
    return {str(u.get("id")): str(u.get("username")) for u in _records(answer, "includes", "users")}


def _collect(answer, tweets: dict[str, dict], usernames: dict[str, str]) -> None:
    for tweet in _records(answer, "data"):
        tweet_id = str(tweet.get("id", ""))
        author = usernames.get(str(tweet.get("author_id", "")), "")
        if not TWEET_ID.match(tweet_id) or not USERNAME.match(author):
            continue
        tweets[tweet_id] = {
            "id": tweet_id,
            "text": str(tweet.get("text") or ""),
            "author": author,
            "created_at": str(tweet.get("created_at") or ""),
            "lang": str(tweet.get("lang") or ""),
            "url": f"https://x.com/{author}/status/{tweet_id}",
        }


# --- parse -----------------------------------------------------------------------------------------

def parse_tweets(body: bytes, *, feed_url: str, fetched_at: datetime, max_items: int = 500,
                 options: dict | None = None) -> list[NormalizedDocument]:
    """The packed tweets (pure): title = first line of the tweet, text = the whole tweet."""
    try:
        tweets = json.loads(body)["tweets"]
    except (ValueError, KeyError, TypeError) as exc:
        raise XParseError(f"not a packed list of tweets: {exc}") from None
    if not isinstance(tweets, list):
        raise XParseError("not a packed list of tweets")
    documents = []
    for tweet in tweets[:max_items]:
        if not isinstance(tweet, dict) or not TWEET_ID.match(str(tweet.get("id", ""))):
            continue
        text = clean_text(str(tweet.get("text") or ""), MAX_TEXT_CHARS)
        first_line = next((line for line in str(tweet.get("text") or "").splitlines() if line.strip()), "")
        published, missing = _published(str(tweet.get("created_at") or ""), fetched_at)
        documents.append(NormalizedDocument(
            external_id=f"x:{tweet['id']}",
            url=absolute_url(str(tweet.get("url") or ""), "https://x.com/"),
            title=clean_text(first_line, TWEET_TITLE_CHARS),
            text=text,
            author=clean_text(str(tweet.get("author") or ""), MAX_AUTHOR_CHARS),
            published_at=published.isoformat(),
            date_missing=missing,
            lang=clean_text(str(tweet.get("lang") or ""), 16),
        ))
    return documents


def _published(value: str, fetched_at: datetime) -> tuple[datetime, bool]:
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return utc(fetched_at).replace(microsecond=0), True
    return utc(when).replace(microsecond=0), False


# Reads the X API, not the Source's URL; every request spends the one X API quota, whoever's source makes it.
OPTIONS_SCHEMA: dict[str, Any] = {"type": "object", "additionalProperties": False, "properties": {
    "accounts": {"type": "array", "maxItems": MAX_ACCOUNTS,
                 "items": {"type": "string", "pattern": "^@*" + USERNAME.pattern.lstrip("^")}},
    "max_results": {"type": "integer", "minimum": MAX_RESULTS_RANGE[0], "maximum": MAX_RESULTS_RANGE[1]},
    "search": {"type": "boolean"},
    "stream": {"type": "boolean", "description": "also read X's filtered stream (the push consumer), when the "
               "token's access level has it"}},
    "anyOf": [{"properties": {"search": {"enum": [True]}}},
              {"required": ["accounts"], "properties": {"accounts": {"minItems": 1}}}],
    "description": 'with "search": false the source reads "accounts", so it needs some'}

KIND = SourceKind("x", fetch=fetch_x, parse=parse_tweets, parse_error=XParseError, option_problems=option_problems,
                  options_schema=OPTIONS_SCHEMA, reads_url=False, budget="x-api",
                  config_keys=("X_BEARER_TOKEN", "X_API_BASE_URL"), app_stream=lambda options: options.get("stream") is True)
