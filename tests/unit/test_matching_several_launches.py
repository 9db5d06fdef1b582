"""An item reporting several launches — an exchange notice listing new tokens, a roundup — gives one match per
launch (``Verdict.also``); an item about one launch still gives one."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tgesweeper.matching import MatchInput, get_engine

PUBLISHED = datetime(2026, 11, 20, 9, tzinfo=timezone.utc)


@pytest.fixture
def engine(match_config):
    return get_engine(match_config)


def found(engine, title: str, text: str = "") -> list[tuple[str, str | None]]:
    return [(m.project, m.ticker) for m in engine.find(MatchInput(title, text, PUBLISHED))]


def test_an_exchange_notice_listing_three_new_tokens_gives_three_matches_on_the_same_evidence(engine):
    verdict = engine.judge(MatchInput("Kestrel Exchange will list Quillstone (QSN), Ferrowind (FWD) and Maravel (MRV) "
                                      "with seed tag applied", "", PUBLISHED))
    assert [(m.ticker, m.kind) for m in verdict.matches] == [("QSN", "listing_at_launch"), ("FWD", "listing_at_launch"),
                                                             ("MRV", "listing_at_launch")]
    assert len({m.confidence for m in verdict.matches}) == 1
    assert [m.project for m in verdict.also] == ["Ferrowind", "Maravel"]


def test_a_token_that_already_trades_in_the_list_is_left_out(engine):
    listed = found(engine, "Kestrel Exchange will list Quillstone (QSN) and Ethereum (ETH) with seed tag applied")
    assert [ticker for _, ticker in listed] == ["QSN"]


def test_a_roundup_headline_gives_each_launch_it_reports(engine):
    assert found(engine, "Token launches this week: Quillstone TGE set for Monday; Ferrowind token goes live "
                         "Tuesday") == [("Quillstone", None), ("Ferrowind", None)]


def test_a_roundup_lead_gives_each_launch_as_body_evidence(engine):
    verdict = engine.judge(MatchInput("This week in launches", "Quillstone sets TGE for December 4. Ferrowind token "
                                      "goes live on Tuesday. Bitcoin price slips 2% as traders wait.", PUBLISHED))
    assert [m.project for m in verdict.matches] == ["Quillstone", "Ferrowind"]
    assert verdict.reason.startswith("roundup of 2 launch(es)")
    alone = engine.judge(MatchInput("Quillstone sets TGE for December 4", "", PUBLISHED)).match
    assert verdict.match.confidence < alone.confidence  # a part of a lead is body evidence


def test_a_roundup_without_launches_stays_rejected(engine):
    verdict = engine.judge(MatchInput("Daily digest: token launches slow as Bitcoin price slips", "Ether ETF flows rise.",
                                      PUBLISHED))
    assert verdict.match is None and verdict.stage == "rejected"


def test_one_launch_gives_one_match_and_a_repeated_name_is_not_counted_twice(engine):
    assert found(engine, "Quillstone (QSN) token goes live", "Quillstone (QSN) began trading today.") == [
        ("Quillstone", "QSN")]
    assert found(engine, "Token launches this week: Quillstone TGE set for Monday; Quillstone token goes live "
                         "Tuesday") == [("Quillstone", None)]


def test_a_headline_listing_a_hundred_pairs_gives_at_most_a_dozen_matches(engine):
    listed = ", ".join(f"Name{chr(65 + i % 26)}{chr(65 + i // 26)} (T{chr(65 + i % 26)}{chr(65 + i // 26)})"
                       for i in range(100))
    assert len(found(engine, f"Kestrel Exchange to list at launch {listed}")) == 12
