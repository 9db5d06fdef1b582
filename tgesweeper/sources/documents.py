"""The normalized document every source kind produces: plain data, JSON-ready, no Django."""
from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class NormalizedDocument:
    """One item read from a source, ready to be matched and stored.

    ``published_at`` is an ISO-8601 UTC string; when the source gave no usable date it
    falls back to the fetch time and ``date_missing`` is True.
    """

    external_id: str
    url: str
    title: str
    text: str
    author: str
    published_at: str
    date_missing: bool = False
    lang: str = ""

    @property
    def content_hash(self) -> str:
        return content_hash(self.title, self.text)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["content_hash"] = self.content_hash
        return data

    @classmethod
    def from_dict(cls, data: dict) -> NormalizedDocument:
        fields = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in fields})


def content_hash(title: str, text: str) -> str:
    """sha256 of the whitespace-normalized, case-folded title and text (dedupes re-posted items)."""
    norm = " ".join(f"{title}\n{text}".split()).casefold()
    return hashlib.sha256(norm.encode("utf-8")).hexdigest()
