"""The model adds to the rules: it promotes an item the rules do not publish when it is sure, vetoes a rule match it
finds very unlikely, and otherwise leaves the rules' verdict and confidence alone. The lines are chosen by training
from out-of-time predictions, with Laplace's rule of succession so that a few lucky items draw no line."""
import pytest

from tgesweeper.bench import training
from tgesweeper.matching import MatchConfig, MatchEngine, MatchInput
from tgesweeper.matching.detector import Detector, DetectorError

CONFIG = MatchConfig(("token generation event", "token launch", "TGE"), (), (), 0.85, 100, 50)
DEBUT = MatchInput(title="Quillstone QSN token draws crowds at its debut party", text="Traders bought the new token.")
LAUNCH = MatchInput(title="Orbelle to launch ORB token on May 3", text="Its token generation event is set.")
RUMOR = MatchInput(title="Ether holders move coins to exchanges", text="Trading was quiet.")


def model(terms: dict[str, float], promote_at=None, promoted_confidence=None, veto_at=None) -> Detector:
    """A hand-written model: one word feature present in a text contributes exactly its coefficient, and the
    sigmoid (a=-1, b=0) makes the probability expit(coefficient)."""
    return Detector({
        "format": "tgesweeper-detector", "format_version": 2, "version": "hand+1", "metadata": {},
        "text_features": [{"analyzer": "word", "ngram_range": [1, 1], "sublinear_tf": True,
                           "terms": {term: [1.0, coef] for term, coef in terms.items()}}],
        "signals": {}, "intercept": 0.0, "calibration": {"method": "sigmoid", "a": -1.0, "b": 0.0},
        "combine": {"promote_at": promote_at, "promoted_confidence": promoted_confidence, "veto_at": veto_at}})


def published(engine: MatchEngine, doc: MatchInput):
    verdict = engine.judge(doc)
    return verdict.match if engine.published(verdict) else None


def test_the_rules_alone_leave_the_debut_story_and_publish_the_launch():
    rules = MatchEngine(CONFIG)
    assert published(rules, DEBUT) is None and rules.judge(DEBUT).stage == "no_shape"
    assert published(rules, LAUNCH).confidence == 0.93


def test_a_sure_model_promotes_what_the_rules_miss_with_the_measured_confidence():
    engine = MatchEngine(CONFIG, model({"debut": 6.0}, promote_at=0.9, promoted_confidence=0.94))
    found = published(engine, DEBUT)
    assert found is not None and found.project.startswith("Quillstone") and found.model_version == "hand+1"
    assert found.confidence == 0.998  # expit(6) above the measured 0.94
    assert "promoted by model hand+1" in found.reason and "no launch shape" in found.reason
    unsure = MatchEngine(CONFIG, model({"debut": 1.0}, promote_at=0.9, promoted_confidence=0.94))
    assert published(unsure, DEBUT) is None  # expit(1) = 0.73 < 0.9
    floor = MatchEngine(CONFIG, model({"debut": 3.0}, promote_at=0.9, promoted_confidence=0.97))
    assert published(floor, DEBUT).confidence == 0.97  # expit(3) = 0.953, below the measured share


def test_a_model_vetoes_a_rule_match_it_finds_very_unlikely():
    engine = MatchEngine(CONFIG, model({"launch": -6.0}, veto_at=0.05))
    verdict = engine.judge(LAUNCH)
    assert verdict.match is None and verdict.stage == "rejected"
    assert "vetoed by model hand+1" in verdict.reason and "launches_token" in verdict.reason
    kept = MatchEngine(CONFIG, model({"launch": -2.0}, veto_at=0.05)).judge(LAUNCH).match  # expit(-2) = 0.12
    assert kept.confidence == 0.93 and kept.model_version == "hand+1"  # the rules' confidence, checked by the model


def test_without_lines_or_without_a_model_the_rules_verdicts_are_unchanged():
    quiet = MatchEngine(CONFIG, model({"debut": 9.0, "launch": -9.0}))
    rules = MatchEngine(CONFIG)
    for doc in (DEBUT, LAUNCH, RUMOR):
        a, b = rules.judge(doc), quiet.judge(doc)
        assert (a.stage, a.reason, a.match) == (b.stage, b.reason, b.match)


def test_an_admin_exclusion_still_vetoes_a_promotion():
    config = MatchConfig(CONFIG.tge_keywords, ("crowds",), (), 0.85, 100, 50)
    engine = MatchEngine(config, model({"debut": 6.0}, promote_at=0.5, promoted_confidence=0.9))
    verdict = engine.judge(DEBUT)
    assert verdict.match is None and "excluded term" in verdict.reason


@pytest.mark.parametrize("combine, message", [
    ({"promote_at": 0.9, "promoted_confidence": None, "veto_at": None}, "set together"),
    ({"promote_at": 1.5, "promoted_confidence": 0.9, "veto_at": None}, "combine.promote_at"),
    ({"promote_at": None, "promoted_confidence": None}, "combine: expected"),
    ({"promote_at": None, "promoted_confidence": None, "veto_at": "0.1"}, "combine.veto_at"),
])
def test_the_loader_refuses_malformed_lines(combine, message):
    good = model({"debut": 1.0})
    with pytest.raises(DetectorError, match=message):
        Detector({"format": "tgesweeper-detector", "format_version": 2, "version": "x", "metadata": {},
                  "text_features": [{"analyzer": "word", "ngram_range": [1, 1], "sublinear_tf": True,
                                     "terms": {"debut": [1.0, 1.0]}}],
                  "signals": {}, "intercept": 0.0, "calibration": {"method": "sigmoid", "a": -1.0, "b": 0.0},
                  "combine": combine})
    assert good.combination.promote_at is None


def test_a_line_needs_enough_items_to_clear_the_target_after_laplace():
    nine = [(0.99 - i / 100, 1) for i in range(9)] + [(0.5, 0)] * 5
    assert training._line(nine, lambda label: label == 1, 0.93) is None  # 10/11 = 0.909
    fourteen = [(0.99 - i / 100, 1) for i in range(14)] + [(0.7, 0), (0.6, 1), (0.5, 0)]
    probability, share, items, right = training._line(fourteen, lambda label: label == 1, 0.93)
    assert (round(probability, 2), items, right) == (0.86, 14, 14) and share == 15 / 16
    tied = [(0.9, 1)] * 13 + [(0.9, 0)]  # a cut never splits items of one probability
    assert training._line(tied, lambda label: label == 1, 0.93) is None


def test_top_features_are_the_terms_that_made_the_decision():
    detector = model({"debut": 2.0, "crowds": -0.5, "party": 0.25})
    text = "Quillstone token draws crowds at its debut party"
    top = detector.top_features(text, {}, count=2)
    assert [name for name, _ in top] == ["word 'debut'", "word 'crowds'"]
    every = detector.top_features(text, {}, count=10)
    assert abs(sum(value for _, value in every) - detector.decision(text, {})) < 0.01
    assert top[0][1] > 0 > top[1][1]
