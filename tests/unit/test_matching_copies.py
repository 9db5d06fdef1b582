"""Syndicated copies: near-same text groups, other stories about the same launch do not, and corroboration counts
independent reports."""
from __future__ import annotations

from datetime import datetime, timezone

from tgesweeper.matching.copies import group_copies, signature, similarity
from tgesweeper.matching.events import MentionFacts, summarize_event

STORY = ("Quillstone to launch QSN token on March 9",
         "Quillstone said its token generation event is set for March 9, with claims opening the same day.")
COPY = (STORY[0], STORY[1] + " Read more at https://other.example.com/qsn")
EDITED = ("Quillstone to launch QSN token on 9 March",
          "Quillstone said its TGE is set for March 9, with claims opening the same day.")
OWN_STORY = ("Quillstone sets TGE date as airdrop looms",
             "The project confirmed on Monday that QSN will begin trading on March 9 on two exchanges.")


def test_copies_are_alike_and_other_stories_are_not():
    original = signature(*STORY)
    assert signature(*STORY) == original and len(original) == 256  # deterministic: stored and compared later
    assert similarity(original, signature(*COPY)) >= 0.7
    assert similarity(original, signature(*EDITED)) >= 0.5
    assert similarity(original, signature(*OWN_STORY)) < 0.2
    assert signature("", "") == b"" and similarity(original, b"") == 0.0


def test_groups_are_named_by_their_first_item():
    groups = group_copies([(10, signature(*OWN_STORY)), (11, signature(*STORY)), (12, signature(*COPY)),
                           (13, signature(*EDITED)), (14, b"")])
    assert groups == {10: 10, 11: 11, 12: 11, 13: 11, 14: 14}


def test_copies_from_other_sources_are_one_report():
    seen = datetime(2026, 11, 20, tzinfo=timezone.utc)

    def fact(source: str, confidence: float, group: int) -> MentionFacts:
        return MentionFacts(source=source, confidence=confidence, kind="scheduled", tge_date=None, seen_at=seen,
                            copy_group=group)

    independent = summarize_event([fact("wire", 0.8, 1), fact("daily", 0.8, 2), fact("blog", 0.8, 3)])
    copied = summarize_event([fact("wire", 0.8, 1), fact("daily", 0.8, 1), fact("blog", 0.8, 3)])
    assert (independent.independent_sources, independent.confidence) == (3, 0.992)
    assert (copied.independent_sources, copied.confidence) == (2, 0.96)
    without_groups = summarize_event([MentionFacts("wire", 0.8, "scheduled", None, seen),
                                      MentionFacts("daily", 0.8, "scheduled", None, seen)])
    assert (without_groups.independent_sources, without_groups.confidence) == (2, 0.96)
