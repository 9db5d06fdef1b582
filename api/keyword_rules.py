"""The matching vocabulary people edit in the admin (KeywordRule) joined to the YAML's, its version, and the engine
built from both: the one the match stage runs, which ``evaluate`` and ``benchmark match`` measure.

Saving or deleting a rule bumps a version number in the shared cache; each worker compares it before a batch
and rebuilds its engine when it moved, so an edit reaches every worker without a restart.
"""
from __future__ import annotations

import logging

from django.conf import settings
from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from api import detector_models
from api.models import KeywordRule
from tgesweeper.counters import increment
from tgesweeper.matching import MatchConfig, MatchEngine

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
    """The engine the match stage runs: the configured vocabulary plus the enabled keyword rules, and the live
    detector model (``detector_models.live_model``: the promoted one, else ``DETECTOR_MODEL``). ``detector`` may name
    another model file, or be False for the rules alone; ``rules=False`` leaves the admin's keyword rules out (a
    database without their table)."""
    path = detector_models.live_model() if detector is True else detector or ""
    return MatchEngine(MatchConfig.from_mapping(keyword_matching(rules)),
                       detector_models.load_detector(path) if path else None)


@receiver([post_save, post_delete], sender=KeywordRule)
def _rules_changed(**kwargs) -> None:
    increment(VERSION_KEY, timeout=None)
