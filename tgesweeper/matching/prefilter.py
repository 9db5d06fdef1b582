"""The cheap first look: one Aho-Corasick scan of the lowercased text for any word that launches are reported with.

Most news never mentions a launch word, so for most documents this scan is all the matching work there is.
"""
from __future__ import annotations

from collections.abc import Iterable

import ahocorasick

# Words seen in launch reports. Deliberately broad: the later stages decide; this one only spares them ordinary news.
TRIGGERS = (
    "tge", "token generation", "token launch", "launches token", "launch token", "launches its", "launch its",
    "launched its", "token debut", "debuts", "debut", "airdrop", "launchpool", "launchpad", "megadrop", "ido",
    "initial dex offering", "initial token offering", "ico", "ieo", "public sale", "token sale", "goes live",
    "went live", "is live", "begins trading", "begin trading", "began trading", "starts trading", "start trading",
    "open trading", "opens trading", "open for trading", "binance alpha", "first platform to feature", "at launch",
    "claim", "postpone", "delay", "native token", "governance token", "new token", "its token", "own token",
    "token called", "unveils token", "hit market", "hit the market", "after launch", "seed tag", "pre-market",
    "token", "coin", "cryptocurrency", "reschedul", "trading", "hits the market", "hits market", "list on", "lists on",
    "listed on", "listing on", "memecoin", "meme coin",
    "launches $", "launched $", "launch $", "launching $", "unveils $", "introduces $", "debuts $", "tradable",
)


class Prefilter:
    """Finds which trigger words start a word in a text (short ones must be whole words: "ido" is not "idol")."""

    def __init__(self, extra: Iterable[str] = ()):
        self._automaton = ahocorasick.Automaton()
        for word in {*TRIGGERS, *(w.lower() for w in extra)}:
            self._automaton.add_word(word, word)
        self._automaton.make_automaton()

    def hits(self, lowered: str) -> list[str]:
        """Trigger words found in ``lowered`` (already lowercased), in order, each once."""
        found: dict[str, None] = {}
        for end, word in self._automaton.iter(lowered):
            start = end - len(word) + 1
            if start > 0 and lowered[start - 1].isalnum():
                continue
            if len(word) <= 4 and end + 1 < len(lowered) and lowered[end + 1].isalnum():
                continue
            found[word] = None
        return list(found)
