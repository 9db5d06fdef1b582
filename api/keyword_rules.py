"""The matching vocabulary people edit in the admin (KeywordRule) joined to the YAML's, and its version.

Saving or deleting a rule bumps a version number in the shared cache; each worker compares it before a batch
and rebuilds its engine when it moved, so an edit reaches every worker without a restart.
"""
from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from api.models import KeywordRule
from tgesweeper.counters import increment

VERSION_KEY = "matching:rules-version"


def version() -> int:
    return int(cache.get(VERSION_KEY) or 0)


def keyword_matching() -> dict:
    """The ``keyword_matching`` mapping MatchConfig reads: the YAML/env values plus the enabled rules."""
    section = dict(settings.CONFIG.keyword_matching)
    patterns = {key: list(values or ()) for key, values in (section.get("patterns") or {}).items()}
    for kind, phrase in KeywordRule.objects.filter(enabled=True).values_list("kind", "phrase"):
        bucket = patterns.setdefault(kind, [])
        if phrase.strip() and phrase.strip() not in bucket:
            bucket.append(phrase.strip())
    section["patterns"] = patterns
    return section


@receiver([post_save, post_delete], sender=KeywordRule)
def _rules_changed(**kwargs) -> None:
    increment(VERSION_KEY, timeout=None)
