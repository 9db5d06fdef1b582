"""The sweeper's Celery app with one planted bug, for fault 9 of ``benchmark faults``: the match engine raises on an
item whose title carries the marker in ``TGE_FAULT_ITEM_MARKER``. Nothing in the sweeper raises on purpose, so the
fault has to be planted; the worker runs it as ``celery -A tgesweeper.bench.item_fault worker`` and everything else is
the real pipeline. Only that worker imports this module: the patch is made on import."""
from __future__ import annotations

import os

from tgesweeper.celery import app
from tgesweeper.matching import MatchInput
from tgesweeper.matching.engine import Assessment, MatchEngine

MARKER = os.environ["TGE_FAULT_ITEM_MARKER"]

_assess = MatchEngine.assess


def _assess_or_raise(self: MatchEngine, doc: MatchInput, *, complete: bool = True) -> Assessment:
    if MARKER in doc.title:
        raise RuntimeError(f"injected fault on {doc.title!r}")
    return _assess(self, doc, complete=complete)


MatchEngine.assess = _assess_or_raise  # type: ignore[method-assign]

__all__ = ["app"]
