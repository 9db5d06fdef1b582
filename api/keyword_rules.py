"""The matching vocabulary people edit in the admin (KeywordRule) joined to the YAML's, its version, and the engine
built from both: the one the match stage runs, which ``evaluate`` and ``benchmark match`` measure.

Saving or deleting a rule bumps a version number in the shared cache; each worker compares it before a batch
and rebuilds its engine when it moved, so an edit reaches every worker without a restart.
"""
from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from api.models import KeywordRule
from tgesweeper.config import PROJECT_DIR
from tgesweeper.counters import increment
from tgesweeper.matching import MatchConfig, MatchEngine
from tgesweeper.matching.detector import Detector

VERSION_KEY = "matching:rules-version"

log = logging.getLogger(__name__)


def version() -> int:
    return int(cache.get(VERSION_KEY) or 0)


def keyword_matching(rules: bool = True) -> dict:
    """The ``keyword_matching`` mapping MatchConfig reads: the YAML/env values plus the enabled rules (``rules``)."""
    section = dict(settings.CONFIG.keyword_matching)
    patterns = {key: list(values or ()) for key, values in (section.get("patterns") or {}).items()}
    enabled = KeywordRule.objects.filter(enabled=True).values_list("vocabulary", "phrase") if rules else ()
    for vocabulary, phrase in enabled:
        bucket = patterns.setdefault(vocabulary, [])
        if phrase.strip() and phrase.strip() not in bucket:
            bucket.append(phrase.strip())
    section["patterns"] = patterns
    return section


def build_engine(detector: bool | str = True, *, rules: bool = True) -> MatchEngine:
    """The engine the match stage runs: the configured vocabulary plus the enabled keyword rules, and the configured
    detector model (``DETECTOR_MODEL``). ``detector`` may name another model file, or be False for the rules alone;
    ``rules=False`` leaves the admin's keyword rules out (a database without their table)."""
    path = configured_model() if detector is True else detector or ""
    return MatchEngine(MatchConfig.from_mapping(keyword_matching(rules)), load_detector(path) if path else None)


def configured_model() -> str:
    """``DETECTOR_MODEL`` as an absolute path (relative ones are from the project directory), or "" for none."""
    value = settings.CONFIG["DETECTOR_MODEL"].strip()
    return str(PROJECT_DIR / Path(value).expanduser()) if value else ""


def model_state(path: str | None = None) -> tuple:
    """What identifies the configured model file's content cheaply: a worker rebuilds its engine when it moves."""
    path = configured_model() if path is None else path
    try:
        stat = Path(path).stat() if path else None
    except OSError:
        return (path, None)
    return (path, stat and (stat.st_mtime_ns, stat.st_size))


@lru_cache(maxsize=4)
def _load(path: str, state: tuple) -> Detector:
    return Detector.load(path)


def load_detector(path: str) -> Detector:
    """The model at ``path``, read once per content (a replaced file is read again)."""
    return _load(path, model_state(path))


@receiver([post_save, post_delete], sender=KeywordRule)
def _rules_changed(**kwargs) -> None:
    increment(VERSION_KEY, timeout=None)
