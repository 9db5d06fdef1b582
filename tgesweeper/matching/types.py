"""Plain data crossing the matching boundary: what the engine reads and what it says."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime

KINDS = ("announce", "scheduled", "live", "postponed", "listing_at_launch", "airdrop_claim")


@dataclass(frozen=True)
class MatchInput:
    """The fields of a document the engine looks at."""

    title: str
    text: str
    published_at: datetime | None = None
    source: str = ""
    url: str = ""


@dataclass(frozen=True)
class Match:
    """A TGE mention found in one document. ``confidence`` is calibrated in [0, 1]."""

    project: str
    ticker: str | None
    tge_date: date | None
    kind: str
    confidence: float
    chain: str | None = None
    venues: tuple[str, ...] = ()
    matched_terms: tuple[str, ...] = ()
    snippet: str = ""
    reason: str = ""
    model_version: str = ""  # the detector that gave ``confidence``; empty when the rules alone scored it

    def to_dict(self) -> dict:
        data = asdict(self)
        data["tge_date"] = self.tge_date.isoformat() if self.tge_date else None
        data["venues"] = list(self.venues)
        data["matched_terms"] = list(self.matched_terms)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> Match:
        values = dict(data)
        values["tge_date"] = date.fromisoformat(values["tge_date"]) if values.get("tge_date") else None
        values["venues"] = tuple(values.get("venues") or ())
        values["matched_terms"] = tuple(values.get("matched_terms") or ())
        return cls(**{k: v for k, v in values.items() if k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class Verdict:
    """The engine's answer for one document: a match or None, and why (for evaluate --show-errors).

    An item reporting several launches (an exchange notice listing new tokens, a roundup) has its first in ``match``
    and the others in ``also``, each about another project."""

    match: Match | None
    reason: str
    stage: str = field(default="")  # e.g. "prefilter", "rejected", "matched"
    also: tuple[Match, ...] = ()

    @property
    def matches(self) -> list[Match]:
        return [self.match, *self.also] if self.match is not None else []
