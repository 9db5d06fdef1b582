"""Tweets name projects by @handle and tickers by $cashtag; NLTK's TweetTokenizer keeps both whole.

It is slow (about a thousand documents a second), so it only ever sees tweets, and only when the headline rules
found no project.
"""
from __future__ import annotations

from functools import lru_cache

from tgesweeper.matching.extract import NOT_TICKERS, Named

_TWEET_HINTS = ("twitter", "x.com", "tweet", "nitter")


def is_tweet(source: str, url: str) -> bool:
    where = f"{source} {url}".lower()
    return any(hint in where for hint in _TWEET_HINTS)


@lru_cache(maxsize=1)
def _tokenizer():
    from nltk.tokenize import TweetTokenizer  # noqa: PLC0415  (nltk takes a second to import: only for tweets)

    return TweetTokenizer(preserve_case=True, reduce_len=True)


def tweet_name(text: str) -> Named:
    """The last @handle that is not the exchange speaking, and the first $cashtag."""
    tokens = _tokenizer().tokenize(text)
    handles = [t[1:] for t in tokens if t.startswith("@") and len(t) > 2]
    cashtags = [b.upper() for a, b in zip(tokens, tokens[1:], strict=False) if a == "$" and b[:1].isalpha()]
    cashtags += [t[1:].upper() for t in tokens if t.startswith("$") and t[1:2].isalpha()]
    ticker = next((c for c in cashtags if c not in NOT_TICKERS), None)
    project = handles[-1] if handles else ticker
    return Named(project, ticker, True)
