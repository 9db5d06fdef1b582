"""Configuration: environment over YAML, and a bad value names its key."""
import hashlib
import hmac
import json
import logging
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from tgesweeper import net
from tgesweeper.config import (
    DEFAULT_CONFIG_FILE,
    JWT_KEY_LABEL,
    MARKDOWN_COMMAND,
    VARIABLES,
    ConfigError,
    load_config,
    markdown,
)
from tgesweeper.sources import kind_for
from workers import pipeline

ROOT = Path(__file__).resolve().parents[2]


def test_it_reads_the_defaults():
    config = load_config({})
    assert config["KEYWORD_MIN_CONFIDENCE"] == 0.85
    assert config["KEYWORD_CONTEXT_WINDOW"] == 100
    assert config["SCRAPING_BATCH_SIZE"] == 250
    assert config["SCRAPING_TIMEOUT"] == 30
    assert {s["name"] for s in config.default_sources} >= {"CoinDesk", "Cointelegraph"}
    assert config.keyword_matching["patterns"]["tge_keywords"][0] == "token generation event"


def test_it_lets_the_environment_override_yaml():
    config = load_config({"KEYWORD_MIN_CONFIDENCE": "0.9", "SCRAPING_BATCH_SIZE": "20", "DEBUG": "true"})
    assert config["KEYWORD_MIN_CONFIDENCE"] == 0.9
    assert config.keyword_matching["min_confidence"] == 0.9
    assert config["SCRAPING_BATCH_SIZE"] == 20
    assert config["DEBUG"] is True


@pytest.mark.parametrize("name, value", [
    ("KEYWORD_MIN_CONFIDENCE", "high"),
    ("KEYWORD_MIN_CONFIDENCE", "1.5"),
    ("SCRAPING_BATCH_SIZE", "0"),
    ("SCRAPING_BATCH_SIZE", "2.5"),
    ("DEBUG", "maybe"),
    ("APP_ENV", "staging"),
    ("DATABASE_URL", "not a url"),
])
def test_it_names_the_key_of_a_bad_value(name, value):
    with pytest.raises(ConfigError, match=f"^{name}:"):
        load_config({name: value})


def test_it_names_the_yaml_key_of_a_bad_file_value(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("scraping:\n  batch_size: lots\n")
    with pytest.raises(ConfigError, match=r"^SCRAPING_BATCH_SIZE: .*scraping.batch_size"):
        load_config({}, path)


def test_it_refuses_production_without_a_secret_key():
    with pytest.raises(ConfigError, match="^DJANGO_SECRET_KEY:"):
        load_config({"APP_ENV": "production"})


def test_start_up_stops_with_the_key_in_the_message():
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, capture_output=True, text=True,
                            env={"PATH": "/usr/bin:/bin", "SCRAPING_TIMEOUT": "soon"}, timeout=60)
    assert result.returncode != 0
    assert "SCRAPING_TIMEOUT: expected a number" in result.stderr


def test_x_variables_take_the_spec_names_too():
    config = load_config({"TWITTER_BEARER_TOKEN": "spec-token", "TWITTER_RATE_LIMIT_MAX_REQUESTS": "300"})
    assert config["X_BEARER_TOKEN"] == "spec-token"
    assert config["X_RATE_LIMIT_REQUESTS"] == 300
    assert config["X_RATE_LIMIT_WINDOW"] == 900
    assert load_config({"X_BEARER_TOKEN": "ours", "TWITTER_BEARER_TOKEN": "spec"})["X_BEARER_TOKEN"] == "ours"
    assert load_config({})["X_API_BASE_URL"] == "https://api.twitter.com"


# --- one place for each default -----------------------------------------------------------------------------

def test_the_committed_configuration_docs_are_what_the_command_prints():
    """docs/configuration.md is generated from the table; a variable added or changed without regenerating fails."""
    printed = subprocess.run([sys.executable, "-m", "tgesweeper.config", "--markdown"], cwd=ROOT, capture_output=True,
                             text=True, timeout=60, check=True).stdout
    assert printed == markdown()
    committed = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert committed == printed, f"docs/configuration.md is stale: run {MARKDOWN_COMMAND}"
    assert all(f"`{variable.name}`" in committed for variable in VARIABLES)


def test_no_default_lives_in_the_shipped_yaml():
    """The table holds every variable's default; the shipped YAML only what no variable holds (sources, patterns)."""
    shipped = yaml.safe_load(DEFAULT_CONFIG_FILE.read_text(encoding="utf-8"))

    def lookup(path):
        node = shipped
        for part in path:
            if not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
        return node

    assert [".".join(path) for v in VARIABLES for path in v.yaml_paths if lookup(path) is not None] == []


@pytest.mark.parametrize("variable", VARIABLES, ids=lambda v: v.name)
def test_every_default_is_a_valid_value_of_its_variable(variable):
    assert variable.parse(variable.default) == variable.default
    assert load_config({})[variable.name] == variable.parse(variable.default)


def test_the_fetch_policy_the_workers_build_from_the_defaults_is_the_cores_default(settings):
    settings.CONFIG = load_config({})
    assert pipeline.fetch_policy(kind_for("rss")) == net.FetchPolicy()


def test_the_keyword_numbers_are_bounded_by_the_table(tmp_path):
    """The bounds the product enforced (the engine's own looser ones were never reached) are the only ones."""
    with pytest.raises(ConfigError, match=r"^KEYWORD_CONTEXT_WINDOW: expected a value between 10 and 1000"):
        load_config({"KEYWORD_CONTEXT_WINDOW": "5"})
    with pytest.raises(ConfigError, match=r"^KEYWORD_MAX_DISTANCE: expected a value between 1 and 1000"):
        load_config({"KEYWORD_MAX_DISTANCE": "5000"})
    path = tmp_path / "config.yaml"
    path.write_text("keyword_matching: {min_confidence: high}\n")
    with pytest.raises(ConfigError, match=r"^KEYWORD_MIN_CONFIDENCE: .*keyword_matching\.min_confidence in config\.yaml"):
        load_config({}, path)


# --- the technology spec's YAML layout -------------------------------------------------------------------------------

SPEC_YAML = Path(__file__).with_name("spec_layout_config.yaml")  # every section and key of the spec's layout


def test_the_spec_yaml_names_of_circuit_breaker_rate_limit_and_more_are_read(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(
        "resilience:\n"
        "  circuit_breaker: {failure_threshold: 9, recovery_timeout: 120, timeout: 45}\n"
        "scraping:\n"
        "  news:\n"
        "    rate_limit: {window: 30, max_requests: 7}\n"
        "performance: {batch_size: 25}\n"
        "monitoring: {logging: {level: WARNING}}\n")
    config = load_config({}, path)
    assert config["CIRCUIT_BREAKER_FAILURE_THRESHOLD"] == 9
    assert config["CIRCUIT_BREAKER_RECOVERY_TIMEOUT"] == 120
    assert config["SCRAPING_TIMEOUT"] == 45
    assert config["NEWS_SCRAPER_RATE_PERIOD"] == 30
    assert config["NEWS_SCRAPER_RATE_LIMIT"] == 7
    assert config["SCRAPING_BATCH_SIZE"] == 25
    assert config["LOG_LEVEL"] == "warning"
    assert config.ignored == ()
    # the environment still wins over every YAML name
    assert load_config({"CIRCUIT_BREAKER_FAILURE_THRESHOLD": "3"}, path)["CIRCUIT_BREAKER_FAILURE_THRESHOLD"] == 3


def test_the_legacy_names_default_to_the_tables_values():
    config = load_config({})
    assert (config["CIRCUIT_BREAKER_FAILURE_THRESHOLD"], config["CIRCUIT_BREAKER_RECOVERY_TIMEOUT"]) == (5, 60)
    assert (config["NEWS_SCRAPER_RATE_LIMIT"], config["NEWS_SCRAPER_RATE_PERIOD"]) == (100, 60)
    assert config["LOG_LEVEL"] == "info" and config.ignored == ()


def test_a_config_in_the_spec_layout_loads_with_a_warning_for_each_key_it_cannot_use(caplog):
    with caplog.at_level(logging.WARNING, logger="tgesweeper.config"):
        config = load_config({}, SPEC_YAML)
    assert (config["X_RATE_LIMIT_REQUESTS"], config["X_RATE_LIMIT_WINDOW"]) == (300, 600)
    assert config["SCRAPING_RETRY_MAX_DELAY"] == 45 and config["SCRAPING_RETRY_MAX_ATTEMPTS"] == 4
    assert config["CIRCUIT_BREAKER_FAILURE_THRESHOLD"] == 7 and config["SCRAPING_TIMEOUT"] == 20
    assert (config["NEWS_SCRAPER_RATE_LIMIT"], config["NEWS_SCRAPER_RATE_PERIOD"]) == (40, 120)
    assert config["SCRAPING_BATCH_SIZE"] == 20 and config["CACHE_TTL_SECONDS"] == 120
    assert config["KEYWORD_MIN_CONFIDENCE"] == 0.8 and config["LOG_LEVEL"] == "debug"
    assert config["LOG_FORMAT"] == "text"
    assert [s["name"] for s in config.default_sources] == ["Wire One", "Wire Two"]
    ignored = {note.split(":")[0] for note in config.ignored}
    assert ignored == {
        "database", "redis", "scraping.twitter.enabled", "scraping.twitter.retry", "scraping.news.enabled",
        "performance.worker_pool_size", "performance.max_concurrent_requests", "performance.connection_pool_size",
        "monitoring.prometheus", "monitoring.logging.outputs", "monitoring.tracing",
        "resilience.retry.backoff_strategy",
    }
    warned = " ".join(r.getMessage() for r in caplog.records)
    assert all(f"{key}: ignored" in warned for key in ignored)


@pytest.mark.parametrize("yaml_text, message", [
    ("resilience:\n  circuit_breaker:\n    failure_treshold: 9\n",
     r"^resilience\.circuit_breaker\.failure_treshold: unknown key in config\.yaml "
     r"\(did you mean resilience\.circuit_breaker\.failure_threshold\?\)"),
    ("scraping:\n  news: 5\n", r"^scraping\.news: expected a mapping"),
    ("scraping: {timeout: 20}\nresilience: {circuit_breaker: {timeout: 30}}\n",
     r"^SCRAPING_TIMEOUT: scraping\.timeout \(20\) and resilience\.circuit_breaker\.timeout \(30\) in config\.yaml "
     r"disagree"),
], ids=["unknown key", "not a mapping", "two names of one variable disagree"])
def test_a_yaml_that_cannot_be_read_as_meant_stops_start_up_naming_the_key(tmp_path, yaml_text, message):
    path = tmp_path / "config.yaml"
    path.write_text(yaml_text)
    with pytest.raises(ConfigError, match=message):
        load_config({}, path)


def test_two_yaml_names_of_one_variable_may_agree(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("scraping: {timeout: 20}\nresilience: {circuit_breaker: {timeout: 20}}\n")
    assert load_config({}, path)["SCRAPING_TIMEOUT"] == 20


# --- JWT -----------------------------------------------------------------------------------------------

def test_production_needs_a_jwt_signing_key_of_its_own():
    production = {"APP_ENV": "production", "DJANGO_SECRET_KEY": "s" * 50}
    with pytest.raises(ConfigError, match="^JWT_SIGNING_KEY: required when APP_ENV=production"):
        load_config(production)
    with pytest.raises(ConfigError, match="^JWT_SIGNING_KEY: must differ from DJANGO_SECRET_KEY"):
        load_config({**production, "JWT_SIGNING_KEY": "s" * 50})
    config = load_config({**production, "JWT_SIGNING_KEY": "j" * 50})
    assert config.jwt_signing_key("s" * 50) == "j" * 50


def test_outside_production_the_jwt_key_is_derived_and_never_the_django_secret():
    config = load_config({"DJANGO_SECRET_KEY": "django-secret"})
    key = config.jwt_signing_key("django-secret")
    assert key and key != "django-secret" and "django-secret" not in key
    assert key == hmac.new(b"django-secret", JWT_KEY_LABEL, hashlib.sha256).hexdigest()
    assert key != config.jwt_signing_key("another-secret")  # still follows the Django secret
    assert load_config({"JWT_SIGNING_KEY": "own"}).jwt_signing_key("django-secret") == "own"


def test_django_settings_sign_tokens_with_the_derived_key_and_the_spec_lifetimes():
    from django.conf import settings

    jwt = settings.SIMPLE_JWT
    assert jwt["ALGORITHM"] == "HS256"
    assert jwt["SIGNING_KEY"] != settings.SECRET_KEY
    assert jwt["SIGNING_KEY"] == settings.CONFIG.jwt_signing_key(settings.SECRET_KEY)
    assert jwt["ACCESS_TOKEN_LIFETIME"] == timedelta(hours=24)
    assert jwt["REFRESH_TOKEN_LIFETIME"] == timedelta(days=7)
    assert jwt["ROTATE_REFRESH_TOKENS"] is True and jwt["BLACKLIST_AFTER_ROTATION"] is True
    assert "rest_framework_simplejwt.token_blacklist" in settings.INSTALLED_APPS
    defaults = load_config({})
    assert (defaults["JWT_ACCESS_TOKEN_LIFETIME"], defaults["JWT_REFRESH_TOKEN_LIFETIME"]) == (86400, 7 * 86400)


def test_production_start_up_without_a_jwt_key_stops_naming_it():
    env = {"PATH": "/usr/bin:/bin", "APP_ENV": "production", "DJANGO_SECRET_KEY": "s" * 50}
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, capture_output=True, text=True,
                            env=env, timeout=60)
    assert result.returncode != 0 and "JWT_SIGNING_KEY: required when APP_ENV=production" in result.stderr


PRODUCTION_PROBE = """
import json, django
django.setup()
from django.test import Client
answers = {}
for name, headers in (("plain", {}), ("proxied", {"HTTP_X_FORWARDED_PROTO": "https"})):
    response = Client().get("/health/live", **headers)
    answers[name] = [response.status_code, response.get("Location"), response.get("Strict-Transport-Security")]
print(json.dumps(answers))
"""


def served_in_production(tmp_path, **env: str) -> dict[str, list]:
    """/health/live asked over plain HTTP and through a TLS-terminating proxy, in a process started with
    APP_ENV=production as compose starts the web app (settings are read once, at start)."""
    environ = {"PATH": "/usr/bin:/bin", "APP_ENV": "production", "DJANGO_SECRET_KEY": "s" * 50,
               "JWT_SIGNING_KEY": "j" * 50, "ALLOWED_HOSTS": "testserver", "TGE_VAR_DIR": str(tmp_path / "var"),
               "DJANGO_SETTINGS_MODULE": "tgesweeper.settings", **env}
    result = subprocess.run([sys.executable, "-c", PRODUCTION_PROBE], cwd=ROOT, capture_output=True, text=True,
                            env=environ, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_production_serves_plain_http_behind_a_proxy_and_trusts_its_forwarded_proto(tmp_path):
    """Compose reaches the app over plain HTTP: no redirect to an HTTPS nothing serves. A request the proxy marks
    ``X-Forwarded-Proto: https`` is secure, so it gets HSTS."""
    answers = served_in_production(tmp_path)
    assert answers["plain"] == [200, None, None]
    assert answers["proxied"][0] == 200
    assert "max-age=31536000" in answers["proxied"][2]


def test_production_redirects_to_https_when_told_tls_terminates_in_front(tmp_path):
    answers = served_in_production(tmp_path, SECURE_SSL_REDIRECT="true")
    assert answers["plain"][:2] == [301, "https://testserver/health/live"]
    assert answers["proxied"][0] == 200


def test_a_relative_var_dir_is_taken_from_the_project_directory():
    assert load_config({"TGE_VAR_DIR": "var/elsewhere"}).var_dir == ROOT / "var" / "elsewhere"
    assert load_config({"TGE_VAR_DIR": "/srv/tge"}).var_dir == Path("/srv/tge")


def test_manage_py_check_with_a_relative_var_dir_gives_no_cache_warning(tmp_path):
    """Started from another directory, a relative TGE_VAR_DIR still lands under the project, and Django's check
    framework does not warn that the file cache's location is relative (caches.W003)."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    relative = Path(os.path.relpath(tmp_path / "var", ROOT))
    result = subprocess.run([sys.executable, str(ROOT / "manage.py"), "check"], cwd=elsewhere, capture_output=True,
                            text=True, env={"PATH": "/usr/bin:/bin", "TGE_VAR_DIR": str(relative)}, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "W003" not in result.stdout + result.stderr
    assert (tmp_path / "var" / "static").is_dir() and not (elsewhere / relative).exists()
