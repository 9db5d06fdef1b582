"""Configuration: environment over YAML, and a bad value names its key."""
import subprocess
import sys
from pathlib import Path

import pytest

from tgesweeper.config import SETTINGS, ConfigError, load_config

ROOT = Path(__file__).resolve().parents[2]


def test_it_reads_the_seed_defaults_from_yaml():
    config = load_config({})
    assert config["KEYWORD_MIN_CONFIDENCE"] == 0.85
    assert config["KEYWORD_CONTEXT_WINDOW"] == 100
    assert config["SCRAPING_BATCH_SIZE"] == 50
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


def test_x_settings_take_the_seed_names_too():
    config = load_config({"TWITTER_BEARER_TOKEN": "seed-token", "TWITTER_RATE_LIMIT_MAX_REQUESTS": "300"})
    assert config["X_BEARER_TOKEN"] == "seed-token"
    assert config["X_RATE_LIMIT_REQUESTS"] == 300
    assert config["X_RATE_LIMIT_WINDOW"] == 900
    assert load_config({"X_BEARER_TOKEN": "ours", "TWITTER_BEARER_TOKEN": "seed"})["X_BEARER_TOKEN"] == "ours"
    assert load_config({})["X_API_BASE_URL"] == "https://api.twitter.com"


def test_every_setting_is_documented_in_the_readme():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert [s.env for s in SETTINGS if f"`{s.env}`" not in readme] == []
