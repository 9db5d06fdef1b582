"""The matching engine's settings: the seed's ``keyword_matching`` section as a checked, frozen value."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SEED_KEYWORDS = ("token generation event", "token launch", "TGE", "initial token offering")
SEED_EXCLUSIONS = ("rumor", "speculation", "allegedly")


@dataclass(frozen=True)
class MatchConfig:
    tge_keywords: tuple[str, ...] = SEED_KEYWORDS
    exclusions: tuple[str, ...] = SEED_EXCLUSIONS
    min_confidence: float = 0.85
    context_window: int = 100
    max_distance: int = 50
    watchlist: tuple[str, ...] = ()

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> MatchConfig:
        """Build from the YAML shape ``{min_confidence, context_window, max_distance, patterns: {...}}``."""
        patterns = data.get("patterns") or {}
        if not isinstance(patterns, Mapping):
            raise ValueError("keyword_matching.patterns: expected a mapping")
        values: dict[str, Any] = {}
        for key in ("tge_keywords", "exclusions", "watchlist"):
            raw = patterns.get(key, data.get(key))
            if raw is None:
                continue
            if not isinstance(raw, (list, tuple)) or not all(isinstance(w, str) and w.strip() for w in raw):
                raise ValueError(f"keyword_matching.patterns.{key}: expected a list of non-empty strings")
            values[key] = tuple(w.strip() for w in raw)
        for key, kind, low, high in (("min_confidence", float, 0.0, 1.0), ("context_window", int, 1, 10_000),
                                     ("max_distance", int, 1, 10_000)):
            if key in data:
                try:
                    number = kind(data[key])
                except (TypeError, ValueError):
                    raise ValueError(f"keyword_matching.{key}: expected a number, got {data[key]!r}") from None
                if not low <= number <= high:
                    raise ValueError(f"keyword_matching.{key}: expected a value between {low} and {high}")
                values[key] = number
        return cls(**values)
