"""Well-known tokens and the month each first traded, read from ``known_tokens.tsv`` beside this module (its header
says where the table comes from and how to update it).

A token counts as *established* only for items published well after its first trading month: a 2022 story about
Optimism's token launch must not be called "already trading" because OP trades today.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

# The first days of trading still produce "X soars after launch" stories that are launches; after this many days
# past the first trading month's start, news about the token is about a token that trades.
GRACE_DAYS = 60
# "Portal to Bitcoin" is not Bitcoin: a known name at the end of a longer name counts unless a connector precedes it.
_CONNECTORS = frozenset({"to", "of", "on", "for", "the", "and", "in"})

TABLE = Path(__file__).with_name("known_tokens.tsv")


@dataclass(frozen=True)
class KnownToken:
    ticker: str
    names: tuple[str, ...]
    first_trading: date


def normal(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", name.casefold()).strip()


def _load(path: Path = TABLE) -> tuple[dict[str, KnownToken], dict[str, KnownToken]]:
    """The table by ticker and by normalized name; a ticker or name listed twice keeps its first line."""
    by_ticker: dict[str, KnownToken] = {}
    by_name: dict[str, KnownToken] = {}
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")]
    for number, row in enumerate(csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE), start=1):
        try:
            year, month = row["first_trading"].split("-")
            token = KnownToken(row["ticker"], tuple(row["names"].split(";")), date(int(year), int(month), 1))
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{path.name}: data row {number} is not ticker<TAB>names<TAB>YYYY-MM: {row}") from exc
        by_ticker.setdefault(token.ticker, token)
        for name in token.names:
            by_name.setdefault(normal(name), token)
    return by_ticker, by_name


BY_TICKER, BY_NAME = _load()


def lookup(project: str | None, ticker: str | None) -> KnownToken | None:
    """The known token this project/ticker pair names. A ticker alone matches only if the project name does not contradict it."""
    name = normal(project or "")
    if name and name in BY_NAME:
        return BY_NAME[name]
    words = name.split()
    for start in range(1, len(words)):
        if words[start - 1] not in _CONNECTORS and " ".join(words[start:]) in BY_NAME:
            return BY_NAME[" ".join(words[start:])]
    token = BY_TICKER.get((ticker or "").upper())
    if token is None:
        return None
    if not name or name == normal(token.ticker) or any(_overlaps(name, normal(n)) for n in token.names):
        return token
    return None


def _overlaps(a: str, b: str) -> bool:
    """Whole words of one name appear in the other: "Sweat Economy" ~ "Sweat", but "Nexoriny" is not "Nexo"."""
    padded_a, padded_b = f" {a} ", f" {b} "
    return padded_a in padded_b or padded_b in padded_a


def is_established(token: KnownToken | None, published: datetime | date | None) -> bool:
    """True if the item was published after the token's first trading month plus the grace period."""
    if token is None:
        return False
    if published is None:
        return True
    day = published.date() if isinstance(published, datetime) else published
    return (day - token.first_trading).days > GRACE_DAYS
