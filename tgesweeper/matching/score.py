"""From evidence to a confidence that means what it says, and to the kind of launch.

The base is the strongest launch shape's weight (how often that shape is a real launch); evidence found only in the
body counts less than the headline's; a ticker, a date and corroborating shapes add a little; price talk, second-wave
airdrops, body-level speculation and a launch phrase far from the project take away. Weights were set on one half
of the development corpus (split by project) and checked on the other.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from tgesweeper.matching.shapes import FUTURE, PAST, Shape

BODY_ONLY = 0.05
NAME_OUTSIDE_TITLE = 0.04
TICKER_BONUS = 0.02
DATE_BONUS = 0.02
CORROBORATION_BONUS = 0.03
WATCHLIST_BONUS = 0.05
FAR_FROM_PROJECT = 0.08
PENALTIES = {"price_talk": 0.12, "second_wave": 0.15, "speculation": 0.1}
# When the headline's shape itself is about first trading, price words are part of the story, not a sign against it.
PRICE_TOLERANT = frozenset({"after_launch", "token_live", "claim_open", "first_platform"})
# When the headline's shape is a sale starting, "presale" names the launch itself (promotion is rejected in noise).
SALE_SHAPES = frozenset({"sale_start", "sale", "sale_live"})
KIND_PRIORITY = ("postponed", "listing_at_launch", "airdrop_claim", "live", "scheduled", "announce")


@dataclass(frozen=True)
class Evidence:
    title_shapes: Sequence[Shape]
    body_shapes: Sequence[Shape]
    penalties: dict[str, str]
    has_ticker: bool
    tge_date: date | None
    name_in_title: bool
    near_project: bool
    watched: bool


def confidence(e: Evidence) -> float:
    shapes = list(e.title_shapes) or list(e.body_shapes)
    base = max(s.weight for s in shapes) - (0 if e.title_shapes else BODY_ONLY)
    distinct = {s.name for s in (*e.title_shapes, *e.body_shapes)} - {"listing"}
    score = base + (CORROBORATION_BONUS if len(distinct) >= 2 else 0.0)
    score += TICKER_BONUS if e.has_ticker else 0.0
    score += DATE_BONUS if e.tge_date else 0.0
    score -= 0.0 if e.name_in_title else NAME_OUTSIDE_TITLE
    score -= 0.0 if e.near_project else FAR_FROM_PROJECT
    for family in e.penalties:
        cut = PENALTIES.get(family, 0.1)
        if family == "price_talk" and any(s.name in PRICE_TOLERANT for s in e.title_shapes):
            cut = 0.0
        if family == "presale" and any(s.name in SALE_SHAPES for s in e.title_shapes):
            cut = 0.0
        score -= cut
    score += WATCHLIST_BONUS if e.watched else 0.0
    return round(min(max(score, 0.01), 0.99), 3)


def kind(e: Evidence, lowered_title: str) -> str:
    shapes = list(e.title_shapes) or list(e.body_shapes)
    strongest = max(shapes, key=lambda s: s.weight)
    if any(s.kind == "postponed" for s in shapes):
        return "postponed"
    close = {s.kind for s in shapes if s.weight >= max(strongest.weight - 0.05, 0.8)} or {strongest.kind}
    found = next(k for k in KIND_PRIORITY if k in close)
    if found == "live" and FUTURE.search(lowered_title) and not PAST.search(lowered_title):
        return "scheduled"
    if found == "announce" and (e.tge_date or strongest.name == "sale"):
        return "scheduled"
    return found
