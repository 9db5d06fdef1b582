"""The application's configuration: environment variables over YAML over each variable's default.

One table (``VARIABLES``) declares every configuration variable once: its name, type, default, bounds, YAML keys
and a one-line doc. Everything else is derived from it: the checked values (a bad one stops start-up with a
message that names the key), the engine's and the fetcher's parameters, and ``docs/configuration.md``
(``python -m tgesweeper.config --markdown``). No Django here: Django's settings module, the Celery config and
the management commands all read the same ``Config``.
"""
from __future__ import annotations

import difflib
import hashlib
import hmac
import logging
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

DEFAULT_CONFIG_FILE = Path(__file__).with_name("default_config.yaml")
PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_VAR_DIR = PROJECT_DIR / "var"
SHIPPED_DETECTOR_MODEL = "tgesweeper/matching/models/detector-v1.json"
JWT_KEY_LABEL = b"tgesweeper: JWT signing key derived from DJANGO_SECRET_KEY"
MARKDOWN_COMMAND = "python -m tgesweeper.config --markdown > docs/configuration.md"

log = logging.getLogger(__name__)


class ConfigError(ValueError):
    """A configuration variable has a value the sweeper cannot run with."""


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError("expected true or false")


def _number(number_type: type, value: Any, bounds: tuple[float, float] | None) -> Any:
    if isinstance(value, bool):
        raise ValueError(f"expected {number_type.__name__}")
    try:
        number = number_type(str(value).strip()) if isinstance(value, str) else number_type(value)
    except (TypeError, ValueError):
        raise ValueError(f"expected {'an integer' if number_type is int else 'a number'}") from None
    if number_type is int and not isinstance(value, int) and str(value).strip() != str(number):
        raise ValueError("expected an integer")
    if bounds is not None and not bounds[0] <= number <= bounds[1]:
        raise ValueError(f"expected a value between {bounds[0]} and {bounds[1]}")
    return number


@dataclass(frozen=True)
class Variable:
    """One configuration variable. ``type`` is bool, int, float, str or tuple (a comma-separated list)."""

    name: str
    type: type
    default: Any
    doc: str
    yaml: tuple[str, ...] = ()  # dotted YAML keys that hold it: ours first, then the legacy layout's
    bounds: tuple[float, float] | None = None
    choices: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()  # other environment names accepted after ``name`` (the legacy TWITTER_* names)
    shown: str = ""  # the default as the docs show it, where the value depends on the machine

    def parse(self, value: Any) -> Any:
        if self.type is bool:
            return _boolean(value)
        if self.type in (int, float):
            return _number(self.type, value, self.bounds)
        if self.type is tuple:
            items = value if isinstance(value, (list, tuple)) else str(value).split(",")
            return tuple(w.strip() for w in items if str(w).strip())
        text = "" if value is None else str(value).strip()
        if self.choices:
            text = text.lower()
            if text not in self.choices:
                raise ValueError(f"expected one of {', '.join(self.choices)}")
        return text

    @property
    def yaml_paths(self) -> tuple[tuple[str, ...], ...]:
        return tuple(tuple(key.split(".")) for key in self.yaml)


VARIABLES: tuple[Variable, ...] = (
    Variable("APP_ENV", str, "development", "`production` turns on the secure defaults (secure cookies, HSTS, "
             "`X-Forwarded-Proto: https` from the proxy trusted as HTTPS) and requires `DJANGO_SECRET_KEY` and "
             "`JWT_SIGNING_KEY`",
             yaml=("application.environment",), choices=("development", "test", "production")),
    Variable("SECURE_SSL_REDIRECT", bool, False, "in production, redirect plain-HTTP requests to HTTPS; turn it on only "
             "where TLS terminates in front of the app (a proxy that sets `X-Forwarded-Proto`), else every request "
             "is redirected to an address nothing serves"),
    Variable("DEBUG", bool, False, "Django debug pages; never in production"),
    Variable("LOG_LEVEL", str, "info", "log level of every process", yaml=("monitoring.logging.level",),
             choices=("debug", "info", "warning", "error")),
    Variable("LOG_FORMAT", str, "auto", "`json` (one JSON object a line, for a log collector), `text` (readable lines) "
             "or `auto`: json when APP_ENV=production, text elsewhere", yaml=("monitoring.logging.format",),
             choices=("auto", "json", "text")),
    Variable("SENTRY_DSN", str, "", "send errors (web requests and tasks) to Sentry at this DSN; empty = no Sentry"),
    Variable("SENTRY_ENVIRONMENT", str, "", "the environment Sentry files errors under; empty = APP_ENV"),
    Variable("SENTRY_TRACES_SAMPLE_RATE", float, 0.0, "share of requests and tasks traced for Sentry's performance "
             "view (0 = errors only)", bounds=(0, 1)),
    Variable("WORKER_METRICS_PORT", int, 0, "a Celery worker serves its pipeline metrics (every pool process's, "
             "through `PROMETHEUS_MULTIPROC_DIR`) on this port at `/metrics`; 0 = not served", bounds=(0, 65535)),
    Variable("CONSUL_HTTP_ADDR", str, "", "a Consul agent (e.g. `http://127.0.0.1:8500`): web and workers register there "
             "with a health check and deregister when they stop; empty = no Consul"),
    Variable("CONSUL_HTTP_TOKEN", str, "", "ACL token for the Consul agent"),
    Variable("CONSUL_SERVICE_ADDRESS", str, "", "the address Consul and its health checks reach this process at; "
             "empty = the host name"),
    Variable("CONSUL_SERVICE_PORT", int, 8000, "the web's port as Consul and its health check reach it",
             bounds=(1, 65535)),
    Variable("DOCUMENT_RETENTION_DAYS", int, 90, "`manage.py prune` (daily, by beat) deletes documents fetched longer "
             "ago than this, except those behind a mention of an event; 0 = keep everything", bounds=(0, 36500)),
    Variable("DJANGO_SECRET_KEY", str, "", "Django signing key; required when APP_ENV=production (empty elsewhere = a "
             "fixed development-only key)"),
    Variable("ALLOWED_HOSTS", tuple, ("127.0.0.1", "localhost"), "comma-separated host names served"),
    Variable("TGE_VAR_DIR", str, str(DEFAULT_VAR_DIR), "folder of the embedded SQLite database, broker and file "
             "cache; a relative path is taken from the project directory (where manage.py is)",
             shown="`var/` in the project folder"),
    Variable("DATABASE_URL", str, "", "e.g. `postgresql://user@127.0.0.1:5432/tge`; empty = SQLite in `TGE_VAR_DIR`"),
    Variable("DATABASE_CONN_MAX_AGE", int, 60, "seconds a database connection is reused", bounds=(0, 3600)),
    Variable("REDIS_URL", str, "", "broker, cache and pub/sub, e.g. `redis://127.0.0.1:6379/0`; empty = the embedded "
             "default (SQLite broker, file cache, the event log in the database, no pub/sub)"),
    Variable("CELERY_BROKER_URL", str, "", "overrides the broker; empty = `REDIS_URL`, else the "
             "embedded SQLite broker (`broker.sqlite3` in `TGE_VAR_DIR`)"),
    Variable("CELERY_VISIBILITY_TIMEOUT", int, 3600, "seconds after which Redis gives a message whose worker died "
             "unacked to another worker; keep it far above every task's time limit (fetch retries wait at most this "
             "− 120 s)", bounds=(1, 43200)),
    Variable("SCRAPING_INTERVAL", int, 300, "seconds between fetches of a source whose YAML entry names no interval",
             yaml=("scraping.interval",), bounds=(10, 86400)),
    Variable("SCRAPING_BATCH_SIZE", int, 250, "documents per parse → match → persist message (250: measured, "
             "docs/benchmarks.md)",
             yaml=("scraping.batch_size", "performance.batch_size"), bounds=(1, 1000)),
    Variable("SCRAPING_TIMEOUT", float, 30, "total deadline of one fetch, s",
             yaml=("scraping.timeout", "resilience.circuit_breaker.timeout"), bounds=(1, 300)),
    Variable("SCRAPING_CONNECT_TIMEOUT", float, 5, "connect timeout of one request, s",
             yaml=("scraping.connect_timeout",), bounds=(0.1, 60)),
    Variable("SCRAPING_READ_TIMEOUT", float, 10, "read timeout of one request, s", yaml=("scraping.read_timeout",),
             bounds=(0.1, 120)),
    Variable("SCRAPING_MAX_BYTES", int, 10 * 1024 * 1024, "decompressed body cap, bytes (a gzip bomb stops here)",
             yaml=("scraping.max_bytes",), bounds=(1024, 200 * 1024 * 1024)),
    Variable("SCRAPING_MAX_ITEMS", int, 500, "items read from one fetch", yaml=("scraping.max_items",),
             bounds=(1, 10000)),
    Variable("SCRAPING_ALLOW_PRIVATE_NETWORKS", bool, False, "allow loopback/private source URLs (tests, `make demo` "
             "and the benchmarks only)", yaml=("scraping.allow_private_networks",)),
    Variable("SCRAPING_RETRY_MAX_ATTEMPTS", int, 3, "attempts for a transient fetch error",
             yaml=("resilience.retry.max_attempts",), bounds=(1, 10)),
    Variable("SCRAPING_RETRY_BASE_DELAY", float, 1.0, "first retry delay, s (exponential with full jitter)",
             yaml=("resilience.retry.base_delay",), bounds=(0, 600)),
    Variable("SCRAPING_RETRY_MAX_DELAY", float, 60.0, "retry delay cap, s", yaml=("resilience.retry.max_delay",),
             bounds=(0, 3600)),
    Variable("PUSH_RECONNECT_BASE_DELAY", float, 1.0, "first reconnect delay of a push source's stream, s "
             "(exponential with full jitter)", bounds=(0.01, 600)),
    Variable("PUSH_RECONNECT_MAX_DELAY", float, 60.0, "reconnect delay cap of a push source's stream, s",
             bounds=(0.1, 3600)),
    Variable("PUSH_SOURCES_REFRESH", float, 30.0, "how often the push consumer looks for push sources added, changed, "
             "disabled or removed, s", bounds=(0.1, 3600)),
    Variable("NEWS_SCRAPER_RATE_LIMIT", int, 100, "requests per host per `NEWS_SCRAPER_RATE_PERIOD`, one budget shared "
             "by all workers (Redis); beyond it the fetch is put off to the next window",
             yaml=("scraping.news.rate_limit.max_requests",), bounds=(1, 100000)),
    Variable("NEWS_SCRAPER_RATE_PERIOD", float, 60, "window of the per-host budget, s",
             yaml=("scraping.news.rate_limit.window",), bounds=(1, 86400)),
    Variable("FETCH_MAX_DEFERRALS", int, 20, "times a rate-limited fetch (our budget or the server's 429) is put off "
             "before it counts as failed", bounds=(0, 1000)),
    Variable("TASK_MAX_DELIVERIES", int, 3, "deliveries of a message whose worker died each time (killed, out of "
             "memory, over the hard time limit) before it is parked in *Dead letters*", bounds=(1, 100)),
    Variable("CIRCUIT_BREAKER_FAILURE_THRESHOLD", int, 5, "failed fetches in a row that open a source's circuit",
             yaml=("resilience.circuit_breaker.failure_threshold",), bounds=(1, 1000)),
    Variable("CIRCUIT_BREAKER_RECOVERY_TIMEOUT", float, 60, "seconds an open circuit rests before one trial fetch",
             yaml=("resilience.circuit_breaker.recovery_timeout",), bounds=(1, 86400)),
    Variable("ADAPTIVE_POLLING", bool, True, "poll sources that publish often more often, quiet ones less"),
    Variable("ADAPTIVE_POLL_MIN_SECONDS", int, 60, "shortest adaptive interval, s; a source whose own interval is "
             "shorter (an exchange list polled every 10–30 s) keeps it, never adapted", bounds=(10, 86400)),
    Variable("ADAPTIVE_POLL_MAX_SECONDS", int, 3600, "longest adaptive interval, s", bounds=(10, 7 * 86400)),
    Variable("KEYWORD_MIN_CONFIDENCE", float, 0.85, "confidence at which a match is a published event; below, a "
             "candidate for review", yaml=("keyword_matching.min_confidence",), bounds=(0, 1)),
    Variable("KEYWORD_CONTEXT_WINDOW", int, 100, "snippet characters either side of a match",
             yaml=("keyword_matching.context_window",), bounds=(10, 1000)),
    Variable("KEYWORD_MAX_DISTANCE", int, 50, "max characters between a keyword and the name it qualifies",
             yaml=("keyword_matching.max_distance",), bounds=(1, 1000)),
    Variable("DETECTOR_MODEL", str, "", "the learned detector's model file (JSON written by `manage.py "
             f"train_detector`), e.g. the shipped `{SHIPPED_DETECTOR_MODEL}`; it may promote items the rules do not "
             "publish and veto rule matches, at lines its training chose (the shipped model's draws none). Relative "
             "paths are from the project directory; empty = the rules alone"),
    Variable("DETECTOR_SHADOW_MODEL", str, "", "a detector model file scored in shadow: on every item past the "
             "prefilter, beside the live model, its probability and verdict stored (*Shadow scores*) and never "
             "published or alerted; `manage.py shadow_report` compares it with the live verdicts, `manage.py "
             "promote_detector` makes a model live. Relative paths are from the project directory; empty = none"),
    Variable("CACHE_TTL_SECONDS", int, 300, "API response cache lifetime, s (0 = no caching)",
             yaml=("performance.cache_ttl_seconds",), bounds=(0, 86400)),
    Variable("API_PUBLIC_READ", bool, False, "true: reads need no API key or token (writes still need staff)"),
    Variable("API_MAX_LIMIT", int, 500, "largest `limit` a list request may ask for (larger is a 400)",
             bounds=(1, 10000)),
    Variable("API_THROTTLE_RATE", str, "1200/min", "requests per identity (API key, user or client address), e.g. "
             "`1200/min`; empty = no throttling"),
    Variable("LOGIN_MAX_FAILURES", int, 5, "failed logins per username, and per client address (the socket's, never "
             "`X-Forwarded-For`), before the admin and `auth/token` refuse logins", bounds=(1, 1000)),
    Variable("LOGIN_LOCKOUT_SECONDS", int, 900, "how long failed logins are remembered (and logins refused), s",
             bounds=(1, 86400)),
    Variable("JWT_SIGNING_KEY", str, "", "HS256 key of API tokens, a key of its own: required when "
             "APP_ENV=production (and different from `DJANGO_SECRET_KEY`); elsewhere empty = an HMAC-SHA256 of "
             "`DJANGO_SECRET_KEY`"),
    Variable("JWT_ACCESS_TOKEN_LIFETIME", int, 86400, "access token lifetime, s (24 h)", bounds=(60, 30 * 86400)),
    Variable("JWT_REFRESH_TOKEN_LIFETIME", int, 7 * 86400, "refresh token lifetime, s (7 days)",
             bounds=(60, 365 * 86400)),
    Variable("CORS_ALLOWED_ORIGINS", tuple, (), "comma-separated origins allowed to call the API from a browser; "
             "empty = none"),
    Variable("NOTIFY_CHANNEL", str, "tge:events", "Redis pub/sub channel for new and changed events",
             yaml=("notify.channel",)),
    Variable("EVENT_LOG_STREAM", str, "tge:events:log", "Redis Stream that keeps every message published on "
             "`NOTIFY_CHANNEL`, for replay (`GET /api/v1/events/stream`); without Redis the log is a database table"),
    Variable("EVENT_LOG_MAXLEN", int, 10000, "messages the event log keeps (approximately: Redis trims whole nodes, "
             "the table every 100 appends); a client away for longer is told it missed some", bounds=(10, 10_000_000)),
    Variable("EVENT_STREAM_HEARTBEAT_SECONDS", float, 15, "seconds between keep-alive comments on an idle "
             "`events/stream`", bounds=(1, 60)),
    Variable("EVENT_STREAM_MAX_SECONDS", int, 300, "lifetime of one `events/stream` response, s: then it ends and "
             "the client reconnects with `Last-Event-ID` (EventSource does so by itself), so no web worker thread is "
             "held for ever", bounds=(1, 86400)),
    Variable("ALERT_MAX_ATTEMPTS", int, 5, "attempts to send one alert (timeouts, 5xx and 429 are retried with "
             "backoff and jitter) before it is *failed*", bounds=(1, 50)),
    Variable("ALERT_RETRY_BASE_DELAY", float, 2.0, "first alert retry delay, s (exponential with full jitter; a "
             "server's `Retry-After` wins, capped under `CELERY_VISIBILITY_TIMEOUT`)", bounds=(0, 3600)),
    Variable("ALERT_RETRY_MAX_DELAY", float, 300.0, "alert retry delay cap, s", bounds=(0, 43200)),
    Variable("ALERT_TIMEOUT", float, 10.0, "total deadline of one webhook call, s", bounds=(0.5, 120)),
    Variable("ALERT_COALESCE_SECONDS", float, 30.0, "changes of one event within this many seconds of its last alert "
             "to a channel ride on one alert (the first change is sent at once)", bounds=(0, 86400)),
    Variable("ALERT_PAUSE_AFTER_FAILURES", int, 5, "failed alerts in a row (each after its retries) that pause a "
             "channel; a test alert that gets through, or a resume, un-pauses it", bounds=(1, 1000)),
    Variable("ALERT_LINK_BASE_URL", str, "http://127.0.0.1:8000", "where alerts link to: "
             "`<this>/api/v1/tge-events/<id>`"),
    Variable("LIVE_SOCKET_CHANNEL", str, "tge:live", "Redis prefix of the dashboard's live channel (socket.io): "
             "its fan-out channel between web processes and its follower lease", yaml=("live.channel",)),
    Variable("X_BEARER_TOKEN", str, "", "X API v2 app bearer token; empty = `x` sources show as *not configured* "
             "(not failing)", aliases=("TWITTER_BEARER_TOKEN",)),
    Variable("X_API_BASE_URL", str, "https://api.twitter.com", "where the X API is (tests point it at a local fake)"),
    Variable("X_RATE_LIMIT_REQUESTS", int, 450, "X API requests per `X_RATE_LIMIT_WINDOW`, one budget shared by all "
             "workers (Redis)", yaml=("scraping.twitter.rate_limit.max_requests",),
             aliases=("TWITTER_RATE_LIMIT_MAX_REQUESTS",), bounds=(1, 100000)),
    Variable("X_RATE_LIMIT_WINDOW", int, 900, "X API rate-limit window, s", yaml=("scraping.twitter.rate_limit.window",),
             aliases=("TWITTER_RATE_LIMIT_WINDOW",), bounds=(1, 86400)),
)


# YAML keys read as a whole by the code rather than through a variable (their contents are checked where they are used).
STRUCTURED_KEYS: tuple[tuple[str, ...], ...] = (
    ("scraping", "news", "sources"),
    *(("keyword_matching", "patterns", kind) for kind in ("tge_keywords", "exclusions", "watchlist")),
    *(("keyword_matching", kind) for kind in ("tge_keywords", "exclusions", "watchlist")),  # MatchConfig reads these too
)
# Labels: accepted, shown nowhere, change nothing.
LABEL_KEYS: tuple[tuple[str, ...], ...] = (("application", "name"), ("application", "version"))
# Keys of the legacy layout (the project's first default_config.yaml) that have no counterpart here: loading them says
# each is ignored, and why.
LEGACY_KEYS_WITHOUT_COUNTERPART: dict[str, str] = {
    "database": "Django keeps one connection per process (see DATABASE_CONN_MAX_AGE); there is no pool to size",
    "redis": "the Redis clients of Django's cache and Celery size their own pools",
    "scraping.twitter.enabled": "X sources are switched on and off one by one (Source.enabled)",
    "scraping.twitter.retry": "every fetch, X included, retries as resilience.retry says",
    "scraping.news.enabled": "news sources are switched on and off one by one (Source.enabled)",
    "performance.worker_pool_size": "set the worker's --concurrency (WORKER_CONCURRENCY for make run)",
    "performance.max_concurrent_requests": "concurrency is the Celery workers' --concurrency",
    "performance.connection_pool_size": "each fetch opens its own guarded connection",
    "monitoring.prometheus": "the web server serves Prometheus' /metrics itself; nothing to switch or move",
    "monitoring.logging.outputs": "logs go to the console (stderr)",
    "monitoring.tracing": "there is no tracing",
    "resilience.retry.backoff_strategy": "retries are always exponential with full jitter",
}


class Config(Mapping[str, Any]):
    """Checked values by variable name, plus the YAML's structured sections (sources, keyword patterns)."""

    def __init__(self, values: dict[str, Any], document: dict[str, Any], ignored: tuple[str, ...] = ()):
        self._values = values
        self.document = document
        self.ignored = ignored  # "key: why" for each YAML key read but ignored (legacy keys without a counterpart)

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def with_overrides(self, **values: Any) -> Config:
        """A copy with some values replaced (tests, the demo); unknown names are refused."""
        unknown = set(values) - set(self._values)
        if unknown:
            raise ConfigError(f"{', '.join(sorted(unknown))}: no such configuration variable")
        return Config({**self._values, **values}, self.document, self.ignored)

    @property
    def default_sources(self) -> list[dict[str, Any]]:
        return list(self.document.get("scraping", {}).get("news", {}).get("sources", []) or [])

    @property
    def keyword_matching(self) -> dict[str, Any]:
        """The YAML's ``keyword_matching`` section (its patterns) with the checked KEYWORD_* values: what
        ``MatchConfig.from_mapping`` reads."""
        section = dict(self.document.get("keyword_matching") or {})
        section["min_confidence"] = self["KEYWORD_MIN_CONFIDENCE"]
        section["context_window"] = self["KEYWORD_CONTEXT_WINDOW"]
        section["max_distance"] = self["KEYWORD_MAX_DISTANCE"]
        return section

    @property
    def var_dir(self) -> Path:
        """Always absolute: a relative TGE_VAR_DIR is taken from the project directory, so the web server, workers
        and beat share one set of files whatever directory each starts in (and Django's file cache wants it so)."""
        return PROJECT_DIR / Path(self["TGE_VAR_DIR"]).expanduser()

    @property
    def production(self) -> bool:
        return self["APP_ENV"] == "production"

    def jwt_signing_key(self, secret_key: str) -> str:
        """JWT_SIGNING_KEY; when it is empty (never in production), an HMAC-SHA256 of the Django secret key under a
        fixed label: a key of its own, from which a leaked token key does not give back the Django secret."""
        return self["JWT_SIGNING_KEY"] or derived_jwt_key(secret_key)


def derived_jwt_key(secret_key: str) -> str:
    return hmac.new(secret_key.encode("utf-8"), JWT_KEY_LABEL, hashlib.sha256).hexdigest()


def _lookup(document: dict[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = document
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"TGE_CONFIG_FILE: cannot read {path}: {exc}") from None
    if not isinstance(document, dict):
        raise ConfigError(f"TGE_CONFIG_FILE: {path} must hold a YAML mapping")
    return document


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """The user's file overlays the shipped defaults, mapping by mapping; lists are replaced whole."""
    merged = dict(base)
    for key, value in override.items():
        merged[key] = _merge(base[key], value) if isinstance(value, dict) and isinstance(base.get(key), dict) else value
    return merged


def _yaml_value(variable: Variable, document: dict[str, Any], filename: str) -> tuple[Any, str | None]:
    """The variable's value in one YAML document and the key it came from; two of its keys that disagree are an error."""
    found = [(path, value) for path in variable.yaml_paths if (value := _lookup(document, path)) is not None]
    if len({repr(value) for _, value in found}) > 1:
        places = " and ".join(f"{'.'.join(path)} ({value!r})" for path, value in found)
        raise ConfigError(f"{variable.name}: {places} in {filename} disagree; keep one")
    return (found[0][1], ".".join(found[0][0])) if found else (None, None)


def _known_keys() -> tuple[set[tuple[str, ...]], set[tuple[str, ...]]]:
    """(leaves, sections): every YAML key a variable or the code reads, and every mapping that holds one."""
    leaves = {path for variable in VARIABLES for path in variable.yaml_paths} | set(STRUCTURED_KEYS) | set(LABEL_KEYS)
    sections = {path[:i] for path in leaves for i in range(1, len(path))}
    return leaves, sections


def _check_keys(document: dict[str, Any], filename: str) -> tuple[str, ...]:
    """Refuse a YAML key nothing reads (a typo would otherwise be ignored without a word), naming it; return the
    legacy keys that have no counterpart here, each with why it is ignored."""
    leaves, sections = _known_keys()
    ignored: list[str] = []

    def walk(node: dict[str, Any], prefix: tuple[str, ...]) -> None:
        for key, value in node.items():
            path = (*prefix, str(key))
            dotted = ".".join(path)
            if path in leaves:
                continue
            legacy = next((".".join(path[:i]) for i in range(len(path), 0, -1)
                           if ".".join(path[:i]) in LEGACY_KEYS_WITHOUT_COUNTERPART), None)
            if legacy is not None:
                ignored.append(f"{dotted}: ignored, {LEGACY_KEYS_WITHOUT_COUNTERPART[legacy]}")
            elif path in sections:
                if isinstance(value, dict):
                    walk(value, path)
                elif value is not None:
                    raise ConfigError(f"{dotted}: expected a mapping, got {value!r} (in {filename})")
            else:
                siblings = [p[-1] for p in leaves | sections if p[:-1] == prefix and len(p) == len(path)]
                close = difflib.get_close_matches(str(key), siblings, n=1)
                hint = f" (did you mean {'.'.join((*prefix, close[0]))}?)" if close else ""
                raise ConfigError(f"{dotted}: unknown key in {filename}{hint}; docs/configuration.md lists the keys read")

    walk(document, ())
    return tuple(ignored)


def load_config(environ: Mapping[str, str] | None = None, path: str | Path | None = None) -> Config:
    """Read the shipped YAML (overlaid by ``TGE_CONFIG_FILE``), apply the environment, check everything.

    A variable's value comes from its environment variable, else the user's file (any of its YAML keys), else the
    shipped file, else its default. A YAML key that nothing reads stops start-up with an error naming it; a key of
    the legacy layout with no counterpart here is ignored with a warning naming it (``Config.ignored``).
    """
    environ = os.environ if environ is None else environ
    path = Path(path or environ.get("TGE_CONFIG_FILE") or DEFAULT_CONFIG_FILE)
    shipped = _read_yaml(DEFAULT_CONFIG_FILE)
    own = _read_yaml(path) if path != DEFAULT_CONFIG_FILE else {}
    document = _merge(shipped, own)
    ignored = _check_keys(document, path.name)

    values: dict[str, Any] = {}
    for variable in VARIABLES:
        env_name = next((name for name in (variable.name, *variable.aliases) if name in environ), None)
        if env_name is not None:
            raw, origin = environ[env_name], f"environment variable {env_name}"
        else:
            raw, key, filename = None, None, path.name
            for layer, filename in ((own, path.name), (shipped, DEFAULT_CONFIG_FILE.name)):
                raw, key = _yaml_value(variable, layer, filename)
                if key is not None:
                    break
            origin = f"{key} in {filename}" if key is not None else f"the default of {variable.name}"
            if key is None:
                raw = variable.default
        try:
            values[variable.name] = variable.parse(raw)
        except ValueError as exc:
            raise ConfigError(f"{variable.name}: {exc}, got {raw!r} (from {origin})") from None

    if values["APP_ENV"] == "production":
        if not values["DJANGO_SECRET_KEY"]:
            raise ConfigError("DJANGO_SECRET_KEY: required when APP_ENV=production")
        if not values["JWT_SIGNING_KEY"]:
            raise ConfigError("JWT_SIGNING_KEY: required when APP_ENV=production (a key of its own for API tokens)")
        if hmac.compare_digest(values["JWT_SIGNING_KEY"].encode(), values["DJANGO_SECRET_KEY"].encode()):
            raise ConfigError("JWT_SIGNING_KEY: must differ from DJANGO_SECRET_KEY when APP_ENV=production")
    for name in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"):
        url = values[name]
        if url and "://" not in url:
            raise ConfigError(f"{name}: expected a URL such as scheme://host/..., got {url!r}")
    for note in ignored:
        log.warning("%s (%s)", note, path.name)
    return Config(values, document, ignored)


# --- docs/configuration.md ---------------------------------------------------------------------------------------

MAKE_VARIABLES = (  # read by the Makefile and Procfile (where their defaults are), not by the application
    ("`WEB_HOST` / `WEB_PORT`", "`make run`'s web address (Procfile)"),
    ("`WORKER_CONCURRENCY`", "`make run`'s worker processes (Procfile)"),
    ("`FLOWER_BASIC_AUTH`", "`user:password` for Flower; required by `make flower`"),
    ("`FLOWER_ADDRESS` / `FLOWER_PORT`", "where `make flower` listens (Makefile)"),
)


def _shown_default(variable: Variable) -> str:
    if variable.shown:
        return variable.shown
    value = variable.default
    if isinstance(value, bool):
        text = str(value).lower()
    elif isinstance(value, tuple):
        text = ",".join(value)
    elif isinstance(value, float):
        text = f"{value:g}"
    else:
        text = str(value)
    return f"`{text}`" if text else "(empty)"


def _allowed(variable: Variable) -> str:
    if variable.choices:
        return ", ".join(f"`{choice}`" for choice in variable.choices)
    if variable.bounds:
        low, high = (int(n) if float(n).is_integer() else n for n in variable.bounds)
        return f"{variable.type.__name__}, {low} … {high}"
    names: dict[type, str] = {bool: "true / false", tuple: "comma-separated list", str: "text"}
    return names[variable.type]


def markdown() -> str:
    """docs/configuration.md: the table above as a reader wants it (``MARKDOWN_COMMAND`` writes it)."""
    lines = [
        "# Configuration",
        "",
        f"*Generated by `{MARKDOWN_COMMAND}` from the table `VARIABLES` in `tgesweeper/config.py`: edit the table "
        "(each variable's default, bounds and doc live there and nowhere else), then run the command. "
        "A test fails when this file is stale.*",
        "",
        "## Where a value comes from",
        "",
        "For each variable, the first of: its environment variable; your YAML file (`TGE_CONFIG_FILE=path.yaml`, "
        "overlaid on the shipped `tgesweeper/default_config.yaml`, mapping by mapping; lists are replaced whole); "
        "the shipped YAML; its default below. A bad value stops start-up with a message naming the variable and "
        "where the value came from. Two YAML keys of one variable that disagree in one file are an error.",
        "",
        "A YAML key nothing reads stops start-up with an error naming it (a typo is never ignored quietly). "
        "The YAML layout the project started with loads as it is: its keys that have no counterpart here are "
        "ignored, with a warning at start-up naming each one and why:",
        "",
        *(f"- `{key}`: {why}" for key, why in LEGACY_KEYS_WITHOUT_COUNTERPART.items()),
        "",
        " and ".join(f"`{'.'.join(key)}`" for key in LABEL_KEYS) + " are labels: accepted, shown nowhere.",
        "",
        "## Variables",
        "",
        "| variable | default | allowed | YAML key | meaning |",
        "|---|---|---|---|---|",
    ]
    for variable in VARIABLES:
        name = f"`{variable.name}`" + "".join(f" (or `{alias}`)" for alias in variable.aliases)
        keys = " or ".join(f"`{key}`" for key in variable.yaml) or "—"
        lines.append(f"| {name} | {_shown_default(variable)} | {_allowed(variable)} | {keys} | {variable.doc} |")
    lines += [
        "",
        "## Sources and keyword patterns",
        "",
        "These live in the YAML only, read as a whole:",
        "",
        "- `scraping.news.sources`: the default sources `manage.py load_sources` loads. An entry has `name`, `type` "
        "(the source kind), `url`, `interval` (else `SCRAPING_INTERVAL`), and optionally `enabled` and `options` "
        "(the kind's options; the old key `settings` is read with a warning). Every entry is checked as the admin "
        "checks a Source it saves: the URL through the "
        "fetcher's guard (http(s) only; no loopback or private address unless `SCRAPING_ALLOW_PRIVATE_NETWORKS=true`; "
        "a host that does not resolve right now is accepted and checked again at every fetch) and the kind's options. "
        "One bad entry (or two entries with one name) loads nothing: the command exits non-zero naming each bad entry "
        "and what is wrong, so `make run` stops before starting anything.",
        "- `keyword_matching.patterns.tge_keywords`, `.exclusions`, `.watchlist`: the matching vocabulary; "
        "enabled keyword rules from the admin are added to it.",
        "",
        "## Read by make, not by the application",
        "",
        "| variable | meaning |",
        "|---|---|",
        *(f"| {name} | {doc} |" for name, doc in MAKE_VARIABLES),
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    if sys.argv[1:] != ["--markdown"]:
        sys.exit(f"usage: {MARKDOWN_COMMAND}")
    sys.stdout.write(markdown())
