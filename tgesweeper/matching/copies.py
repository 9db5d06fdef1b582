"""Syndicated copies: the same story republished by several outlets (same or near-same text, another URL).

Each mention's item gets a MinHash signature of its character 5-grams (``signature``, datasketch); within an event,
items whose estimated Jaccard similarity reaches ``COPY_THRESHOLD`` form one copy group (``group_copies``: candidates
from an in-memory MinHash LSH index, each checked against its signature). Corroboration then counts independent
reports, not copies (``events.summarize_event``).

Character 5-grams rather than words: syndicated headlines are short, and a changed word or an appended "Read more"
keeps most 5-grams; two outlets' own stories about one launch share few.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Hashable, Sequence
from functools import lru_cache

import numpy as np
from datasketch import LeanMinHash, MinHash, MinHashLSH

NUM_PERM = 64
SEED = 20261120  # part of the stored format: signatures are comparable only under the same seed, width and scheme
SCHEME = "affine32"
SHINGLE = 5
TEXT_CHARS = 1500
COPY_THRESHOLD = 0.5
_URL = re.compile(r"https?://\S+|www\.\S+")
_NOT_WORD = re.compile(r"[^\w]+")


def normalized(title: str, text: str) -> str:
    """What a copy keeps: the words of headline and lead, casefolded, without links and punctuation."""
    joined = unicodedata.normalize("NFKC", f"{title} {text[:TEXT_CHARS]}").casefold()
    return " ".join(_NOT_WORD.sub(" ", _URL.sub(" ", joined)).split())


def signature(title: str, text: str) -> bytes:
    """The item's MinHash (``NUM_PERM`` 32-bit values, little-endian); empty for an item with no words."""
    words = normalized(title, text)
    if not words:
        return b""
    shingles = {words[i:i + SHINGLE].encode() for i in range(max(1, len(words) - SHINGLE + 1))}
    minhash = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME)
    minhash.update_batch(sorted(shingles))
    return minhash.hashvalues.astype("<u4").tobytes()


def _minhash(value: bytes) -> LeanMinHash | None:
    if len(value) != NUM_PERM * 4:
        return None  # empty, or written under other parameters: compared with nothing
    return LeanMinHash(seed=SEED, hashvalues=np.frombuffer(value, dtype="<u4"), scheme=SCHEME)


def similarity(a: bytes, b: bytes) -> float:
    """Estimated Jaccard similarity of two signatures (0 when either is empty)."""
    left, right = _minhash(a), _minhash(b)
    return float(left.jaccard(right)) if left is not None and right is not None else 0.0


@lru_cache(maxsize=4)
def _bands(threshold: float) -> tuple[int, int]:
    """The LSH's bands and rows for a threshold: datasketch's choice, computed once (it integrates numerically)."""
    index = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
    return index.b, index.r


def group_copies(items: Sequence[tuple[Hashable, bytes]], threshold: float = COPY_THRESHOLD) -> dict[Hashable, Hashable]:
    """Each key's copy group, named by the group's first key in ``items``' order (give them oldest first); an item
    without a signature is a group of its own."""
    if len(items) < 2:
        return {key: key for key, _ in items}
    index = MinHashLSH(num_perm=NUM_PERM, params=_bands(threshold))
    parent: dict[Hashable, Hashable] = {}
    order: dict[Hashable, int] = {}
    hashes: dict[Hashable, LeanMinHash] = {}

    def root(key: Hashable) -> Hashable:
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    for key, value in items:
        parent[key] = key
        order.setdefault(key, len(order))
        minhash = _minhash(value)
        if minhash is None:
            continue
        for other in index.query(minhash):
            if minhash.jaccard(hashes[other]) >= threshold:
                first, second = sorted((root(other), root(key)), key=order.__getitem__)
                parent[second] = first
        hashes[key] = minhash
        index.insert(key, minhash)
    return {key: root(key) for key in parent}
