"""Configuration: environment variables with the seed's names over the YAML defaults.

One table (``SETTINGS``) names every setting, where its default lives and how it is checked,
so a bad value stops start-up with a message that names the key. No Django here: the settings
module, the Celery config and the management commands all read the same ``Config``.
"""
from __future__ import annotations

import difflib
import hashlib
import hmac
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

DEFAULT_CONFIG_FILE = Path(__file__).with_name("default_config.yaml")
PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_VAR_DIR = PROJECT_DIR / "var"
JWT_KEY_LABEL = b"tgesweeper: JWT signing key derived from DJANGO_SECRET_KEY"

log = logging.getLogger(__name__)


class ConfigError(ValueError):
    """A setting has a value the sweeper cannot run with."""


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError("expected true or false")


def _number(kind: type, low: float | None = None, high: float | None = None) -> Callable[[Any], Any]:
    def parse(value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError(f"expected {kind.__name__}")
        try:
            number = kind(str(value).strip()) if isinstance(value, str) else kind(value)
        except (TypeError, ValueError):
            raise ValueError(f"expected {'an integer' if kind is int else 'a number'}") from None
        if kind is int and not isinstance(value, int) and str(value).strip() != str(number):
            raise ValueError("expected an integer")
        if (low is not None and number < low) or (high is not None and number > high):
            raise ValueError(f"expected a value between {low} and {high}")
        return number

    return parse


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _choice(*options: str) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        text = str(value).strip().lower()
        if text not in options:
            raise ValueError(f"expected one of {', '.join(options)}")
        return text

    return parse


def _words(value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, (list, tuple)) else str(value).split(",")
    return tuple(w.strip() for w in items if str(w).strip())


@dataclass(frozen=True)
class Setting:
    env: str
    parse: Callable[[Any], Any]
    yaml_path: tuple[str, ...] | None = None
    default: Any = None
    doc: str = ""
    aliases: tuple[str, ...] = ()  # other environment names accepted (the seed's), after ``env``
    yaml_aliases: tuple[tuple[str, ...], ...] = ()  # other YAML places of the same value (the seed's layout)

    @property
    def yaml_paths(self) -> tuple[tuple[str, ...], ...]:
        return ((self.yaml_path,) if self.yaml_path else ()) + self.yaml_aliases


SETTINGS: tuple[Setting, ...] = (
    Setting("APP_ENV", _choice("development", "test", "production"), ("application", "environment"),
            doc="development, test or production (production turns on the secure defaults)"),
    Setting("DEBUG", _boolean, default=False, doc="Django debug pages; never in production"),
    Setting("LOG_LEVEL", _choice("debug", "info", "warning", "error"), ("monitoring", "logging", "level"), default="info",
            doc="log level"),
    Setting("DJANGO_SECRET_KEY", _text, default="", doc="Django signing key; required when APP_ENV=production"),
    Setting("ALLOWED_HOSTS", _words, default=("127.0.0.1", "localhost"), doc="comma-separated host names served"),
    Setting("TGE_VAR_DIR", _text, default=str(DEFAULT_VAR_DIR),
            doc="folder for the embedded SQLite database, broker and cache; a relative path is taken from the project "
                "directory (where manage.py is)"),
    Setting("DATABASE_URL", _text, default="", doc="e.g. postgresql://user@127.0.0.1:5432/tge; empty = SQLite in var/"),
    Setting("DATABASE_CONN_MAX_AGE", _number(int, 0, 3600), default=60, doc="seconds a DB connection is reused"),
    Setting("REDIS_URL", _text, default="", doc="e.g. redis://127.0.0.1:6379/0; broker, cache and pub/sub. Empty = embedded"),
    Setting("CELERY_BROKER_URL", _text, default="",
            doc="overrides the broker; default REDIS_URL, else the embedded SQLite broker in var/"),
    Setting("CELERY_VISIBILITY_TIMEOUT", _number(int, 1, 43200), default=3600,
            doc="seconds before Redis gives an unacked message (its worker died) to another worker"),
    Setting("SCRAPING_INTERVAL", _number(int, 10, 86400), ("scraping", "interval"), doc="default seconds between fetches"),
    Setting("SCRAPING_BATCH_SIZE", _number(int, 1, 1000), ("scraping", "batch_size"), doc="documents per pipeline message",
            yaml_aliases=(("performance", "batch_size"),)),
    Setting("SCRAPING_TIMEOUT", _number(float, 1, 300), ("scraping", "timeout"), doc="total deadline of one fetch, s",
            yaml_aliases=(("resilience", "circuit_breaker", "timeout"),)),
    Setting("SCRAPING_CONNECT_TIMEOUT", _number(float, 0.1, 60), ("scraping", "connect_timeout"), doc="connect timeout, s"),
    Setting("SCRAPING_READ_TIMEOUT", _number(float, 0.1, 120), ("scraping", "read_timeout"), doc="read timeout, s"),
    Setting("SCRAPING_MAX_BYTES", _number(int, 1024, 200 * 1024 * 1024), ("scraping", "max_bytes"),
            doc="decompressed body cap, bytes"),
    Setting("SCRAPING_MAX_ITEMS", _number(int, 1, 10000), ("scraping", "max_items"), doc="items read per fetch"),
    Setting("SCRAPING_ALLOW_PRIVATE_NETWORKS", _boolean, ("scraping", "allow_private_networks"),
            doc="allow loopback/private source URLs (tests and make demo only)"),
    Setting("SCRAPING_RETRY_MAX_ATTEMPTS", _number(int, 1, 10), ("resilience", "retry", "max_attempts"),
            doc="attempts for a transient fetch error"),
    Setting("SCRAPING_RETRY_BASE_DELAY", _number(float, 0, 600), ("resilience", "retry", "base_delay"),
            doc="first retry delay, s (exponential with jitter)"),
    Setting("SCRAPING_RETRY_MAX_DELAY", _number(float, 0, 3600), ("resilience", "retry", "max_delay"), doc="retry delay cap, s"),
    Setting("NEWS_SCRAPER_RATE_LIMIT", _number(int, 1, 100000), ("scraping", "news", "rate_limit", "max_requests"),
            doc="requests per host per NEWS_SCRAPER_RATE_PERIOD, one budget shared by all workers"),
    Setting("NEWS_SCRAPER_RATE_PERIOD", _number(float, 1, 86400), ("scraping", "news", "rate_limit", "window"),
            doc="window of the per-host budget, s"),
    Setting("FETCH_MAX_DEFERRALS", _number(int, 0, 1000), default=20,
            doc="times a rate-limited fetch is put off before it counts as failed"),
    Setting("TASK_MAX_DELIVERIES", _number(int, 1, 100), default=3,
            doc="deliveries of a message whose worker died each time before it is parked as a dead letter"),
    Setting("CIRCUIT_BREAKER_FAILURE_THRESHOLD", _number(int, 1, 1000), ("resilience", "circuit_breaker", "failure_threshold"),
            doc="consecutive failed fetches that open a source's circuit"),
    Setting("CIRCUIT_BREAKER_RECOVERY_TIMEOUT", _number(float, 1, 86400), ("resilience", "circuit_breaker", "recovery_timeout"),
            doc="seconds an open circuit rests before one trial fetch"),
    Setting("ADAPTIVE_POLLING", _boolean, default=True, doc="poll busy sources more often and quiet ones less"),
    Setting("ADAPTIVE_POLL_MIN_SECONDS", _number(int, 10, 86400), default=60, doc="shortest adaptive interval, s"),
    Setting("ADAPTIVE_POLL_MAX_SECONDS", _number(int, 10, 7 * 86400), default=3600, doc="longest adaptive interval, s"),
    Setting("KEYWORD_MIN_CONFIDENCE", _number(float, 0, 1), ("keyword_matching", "min_confidence"),
            doc="confidence at which a match becomes a published event"),
    Setting("KEYWORD_CONTEXT_WINDOW", _number(int, 10, 1000), ("keyword_matching", "context_window"),
            doc="snippet characters either side of a match"),
    Setting("KEYWORD_MAX_DISTANCE", _number(int, 1, 1000), ("keyword_matching", "max_distance"),
            doc="max characters between a keyword and the name it qualifies"),
    Setting("CACHE_TTL_SECONDS", _number(int, 0, 86400), ("performance", "cache_ttl_seconds"), doc="API cache lifetime, s"),
    Setting("API_PUBLIC_READ", _boolean, default=False, doc="true: reads need no API key or token (writes still need staff)"),
    Setting("API_MAX_LIMIT", _number(int, 1, 10000), default=500, doc="largest `limit` a list request may ask for"),
    Setting("API_THROTTLE_RATE", _text, default="1200/min",
            doc="requests per identity (API key, user or client address), e.g. 1200/min; empty = no throttling"),
    Setting("LOGIN_MAX_FAILURES", _number(int, 1, 1000), default=5,
            doc="failed logins (per username, and per client address) before logins are refused"),
    Setting("LOGIN_LOCKOUT_SECONDS", _number(int, 1, 86400), default=900, doc="how long failed logins are remembered, s"),
    Setting("JWT_SIGNING_KEY", _text, default="",
            doc="HS256 key for API tokens, a key of its own; required when APP_ENV=production (and not DJANGO_SECRET_KEY); "
                "elsewhere empty = an HMAC of DJANGO_SECRET_KEY"),
    Setting("JWT_ACCESS_TOKEN_LIFETIME", _number(int, 60, 30 * 86400), default=86400, doc="access token lifetime, s (24 h)"),
    Setting("JWT_REFRESH_TOKEN_LIFETIME", _number(int, 60, 365 * 86400), default=7 * 86400,
            doc="refresh token lifetime, s (7 days)"),
    Setting("CORS_ALLOWED_ORIGINS", _words, default=(),
            doc="comma-separated origins allowed to call the API from a browser; empty = none"),
    Setting("NOTIFY_CHANNEL", _text, ("notify", "channel"), doc="Redis pub/sub channel for new and changed events"),
    Setting("X_BEARER_TOKEN", _text, default="", aliases=("TWITTER_BEARER_TOKEN",),
            doc="X API v2 app bearer token; empty = x sources show as not configured"),
    Setting("X_API_BASE_URL", _text, default="https://api.twitter.com", doc="X API address (tests point it at a fake)"),
    Setting("X_RATE_LIMIT_REQUESTS", _number(int, 1, 100000), ("scraping", "twitter", "rate_limit", "max_requests"),
            aliases=("TWITTER_RATE_LIMIT_MAX_REQUESTS",), doc="X API requests per window, shared by all workers"),
    Setting("X_RATE_LIMIT_WINDOW", _number(int, 1, 86400), ("scraping", "twitter", "rate_limit", "window"),
            aliases=("TWITTER_RATE_LIMIT_WINDOW",), doc="X API rate-limit window, s"),
)


# YAML keys read as a whole by the code rather than through a setting (their contents are checked where they are used).
STRUCTURED_KEYS: tuple[tuple[str, ...], ...] = (
    ("scraping", "news", "sources"),
    *(("keyword_matching", "patterns", kind) for kind in ("tge_keywords", "exclusions", "watchlist")),
    *(("keyword_matching", kind) for kind in ("tge_keywords", "exclusions", "watchlist")),  # MatchConfig reads these too
)
# Labels: accepted, shown nowhere, change nothing.
LABEL_KEYS: tuple[tuple[str, ...], ...] = (("application", "name"), ("application", "version"))
# Keys of the seed's default_config.yaml that have no counterpart here: loading them says each is ignored, and why.
SEED_KEYS_WITHOUT_COUNTERPART: dict[str, str] = {
    "database": "Django keeps one connection per process (see DATABASE_CONN_MAX_AGE); there is no pool to size",
    "redis": "the Redis clients of Django's cache and Celery size their own pools",
    "scraping.twitter.enabled": "X sources are switched on and off one by one (Source.enabled)",
    "scraping.twitter.retry": "every fetch, X included, retries as resilience.retry says",
    "scraping.news.enabled": "news sources are switched on and off one by one (Source.enabled)",
    "performance.worker_pool_size": "set the worker's --concurrency (WORKER_CONCURRENCY for make run)",
    "performance.max_concurrent_requests": "concurrency is the Celery workers' --concurrency",
    "performance.connection_pool_size": "each fetch opens its own guarded connection",
    "monitoring.prometheus": "the web server serves Prometheus' /metrics itself; nothing to switch or move",
    "monitoring.logging.format": "logs are plain text lines on the console",
    "monitoring.logging.outputs": "logs go to the console (stderr)",
    "monitoring.tracing": "there is no tracing",
    "resilience.retry.backoff_strategy": "retries are always exponential with full jitter",
}


class Config(Mapping[str, Any]):
    """Validated settings by environment-variable name, plus the YAML's structured sections."""

    def __init__(self, values: dict[str, Any], document: dict[str, Any], ignored: tuple[str, ...] = ()):
        self._values = values
        self.document = document
        self.ignored = ignored  # "key: why" for each YAML key read but ignored (the seed's keys without a counterpart)

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
            raise ConfigError(f"{', '.join(sorted(unknown))}: no such setting")
        return Config({**self._values, **values}, self.document, self.ignored)

    @property
    def default_sources(self) -> list[dict[str, Any]]:
        return list(self.document.get("scraping", {}).get("news", {}).get("sources", []) or [])

    @property
    def keyword_matching(self) -> dict[str, Any]:
        """The seed's ``keyword_matching`` section with the environment overrides applied."""
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


def _yaml_value(setting: Setting, document: dict[str, Any], filename: str) -> tuple[Any, str | None]:
    """The setting's value in one YAML document and the key it came from; two of its keys that disagree are an error."""
    found = [(path, value) for path in setting.yaml_paths if (value := _lookup(document, path)) is not None]
    if len({repr(value) for _, value in found}) > 1:
        places = " and ".join(f"{'.'.join(path)} ({value!r})" for path, value in found)
        raise ConfigError(f"{setting.env}: {places} in {filename} disagree; keep one")
    return (found[0][1], ".".join(found[0][0])) if found else (None, None)


def _known_keys() -> tuple[set[tuple[str, ...]], set[tuple[str, ...]]]:
    """(leaves, sections): every YAML key a setting or the code reads, and every mapping that holds one."""
    leaves = {path for setting in SETTINGS for path in setting.yaml_paths} | set(STRUCTURED_KEYS) | set(LABEL_KEYS)
    sections = {path[:i] for path in leaves for i in range(1, len(path))}
    return leaves, sections


def _check_keys(document: dict[str, Any], filename: str) -> tuple[str, ...]:
    """Refuse a YAML key nothing reads (a typo would otherwise be ignored without a word), naming it; return the
    seed's keys that have no counterpart here, each with why it is ignored."""
    leaves, sections = _known_keys()
    ignored: list[str] = []

    def walk(node: dict[str, Any], prefix: tuple[str, ...]) -> None:
        for key, value in node.items():
            path = (*prefix, str(key))
            dotted = ".".join(path)
            if path in leaves:
                continue
            seed = next((".".join(path[:i]) for i in range(len(path), 0, -1)
                         if ".".join(path[:i]) in SEED_KEYS_WITHOUT_COUNTERPART), None)
            if seed is not None:
                ignored.append(f"{dotted}: ignored, {SEED_KEYS_WITHOUT_COUNTERPART[seed]}")
            elif path in sections:
                if isinstance(value, dict):
                    walk(value, path)
                elif value is not None:
                    raise ConfigError(f"{dotted}: expected a mapping of settings, got {value!r} (in {filename})")
            else:
                siblings = [p[-1] for p in leaves | sections if p[:-1] == prefix and len(p) == len(path)]
                close = difflib.get_close_matches(str(key), siblings, n=1)
                hint = f" (did you mean {'.'.join((*prefix, close[0]))}?)" if close else ""
                raise ConfigError(f"{dotted}: unknown key in {filename}{hint}; README \"Settings\" lists the keys read")

    walk(document, ())
    return tuple(ignored)


def load_config(environ: Mapping[str, str] | None = None, path: str | Path | None = None) -> Config:
    """Read the shipped YAML (overlaid by ``TGE_CONFIG_FILE``), apply the environment, validate everything.

    A setting's value comes from its environment variable, else the user's file (any of the setting's YAML keys),
    else the shipped file, else its default. A YAML key that nothing reads stops start-up with an error naming it;
    a key of the seed's file with no counterpart here is ignored with a warning naming it (``Config.ignored``).
    """
    environ = os.environ if environ is None else environ
    path = Path(path or environ.get("TGE_CONFIG_FILE") or DEFAULT_CONFIG_FILE)
    shipped = _read_yaml(DEFAULT_CONFIG_FILE)
    own = _read_yaml(path) if path != DEFAULT_CONFIG_FILE else {}
    document = _merge(shipped, own)
    ignored = _check_keys(document, path.name)

    values: dict[str, Any] = {}
    for setting in SETTINGS:
        env_name = next((name for name in (setting.env, *setting.aliases) if name in environ), None)
        if env_name is not None:
            raw, origin = environ[env_name], f"environment variable {env_name}"
        else:
            raw, key, filename = None, None, path.name
            for layer, filename in ((own, path.name), (shipped, DEFAULT_CONFIG_FILE.name)):
                raw, key = _yaml_value(setting, layer, filename)
                if key is not None:
                    break
            origin = f"{key} in {filename}" if key is not None else setting.env
            if raw is None:
                raw = setting.default
        if raw is None:
            raise ConfigError(f"{setting.env}: no value (set it or add {'.'.join(setting.yaml_path or ())} to {path})")
        try:
            values[setting.env] = setting.parse(raw)
        except ValueError as exc:
            raise ConfigError(f"{setting.env}: {exc}, got {raw!r} (from {origin})") from None

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
