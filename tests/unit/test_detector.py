"""The detector at run time: scikit-learn's analyzers reproduced exactly, a refusing loader, deterministic scores,
and a match stage that never needs scikit-learn."""
import json
import math
import subprocess
import sys

import pytest
from sklearn.feature_extraction.text import CountVectorizer

from tests.detector_corpus import items
from tgesweeper.bench import training
from tgesweeper.matching import MatchEngine, MatchInput
from tgesweeper.matching.detector import Detector, DetectorError, char_wb_ngrams, detector_signals, detector_text, word_ngrams

TEXTS = ("Quillstone (QSN) token goes LIVE today!", "  a  b   Ferrowind's  airdrop\tclaim opens — 1,000 users ",
         "x", "Über-token débuts on DEX; price +12.5%")


@pytest.mark.parametrize("text", TEXTS)
def test_the_analyzers_are_scikit_learns(text):
    for analyzer, ours, span in (("word", word_ngrams, (1, 2)), ("char_wb", char_wb_ngrams, (2, 5))):
        theirs = CountVectorizer(analyzer=analyzer, ngram_range=span).build_analyzer()
        assert ours(text, *span) == theirs(text), analyzer


@pytest.fixture(scope="module")
def model(match_config):
    engine = MatchEngine(match_config)
    body = training.fit(training.examples(items(), engine), training.Params(), seed=0)
    return training.model_document(body, "unit", {"seed": 0})


def test_scores_are_deterministic_and_survive_a_round_trip(model, tmp_path, match_config):
    path = tmp_path / "m.json"
    path.write_text(training.dumps({**model, "combine": {"promote_at": None, "promoted_confidence": None,
                                                         "veto_at": 0.0}}))
    first, second = (MatchEngine(match_config, Detector.load(path)) for _ in range(2))
    doc = MatchInput(title="Orbelle to launch ORB token on May 3", text="Its token generation event is set.")
    a, b = first.judge(doc).match, second.judge(doc).match
    assert a is not None and a.confidence == b.confidence and a.model_version == model["version"]
    assert a.model_version.startswith("unit+")  # the rules' match, checked by the model (veto line at 0)
    launch, noise = (first.assess(d) for d in (doc, MatchInput(title="Ether token holders move coins to exchanges",
                                                                  text="Trading was quiet.")))
    p_launch, p_noise = (first.detector.probability(detector_text(x), detector_signals(x)) for x in (launch, noise))
    assert 0 < p_noise < p_launch < 1
    assert p_launch == second.detector.probability(detector_text(launch), detector_signals(launch))


def broken(model, **changes):
    data = json.loads(json.dumps(model))
    data.update(changes)
    return data


@pytest.mark.parametrize("change, message", [
    (lambda m: broken(m, format="pickle"), "not a detector model"),
    (lambda m: broken(m, format_version=99), "format_version"),
    (lambda m: broken(m, intercept="1; import os"), "intercept"),
    (lambda m: broken(m, version="../../etc/passwd"), "version"),
    (lambda m: broken(m, calibration={"method": "eval", "code": "__import__('os')"}), "calibration.method"),
    (lambda m: broken(m, calibration={"method": "isotonic", "x": [1, 0], "y": [0.2, 0.1]}), "isotonic"),
    (lambda m: broken(m, signals={"bias_prefilter": "NaN"}), "signals"),
    (lambda m: broken(m, text_features=[{**m["text_features"][0], "analyzer": "lambda"}]), "analyzer"),
    (lambda m: broken(m, text_features=[{**m["text_features"][0], "terms": {"token": [0, 1]}}]), "idf > 0"),
])
def test_the_loader_refuses_a_malformed_model_and_says_why(model, tmp_path, change, message):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(change(model)))
    with pytest.raises(DetectorError, match=message) as refused:
        Detector.load(path)
    assert str(path) in str(refused.value)


def test_the_loader_refuses_a_pickle_and_a_missing_file(tmp_path):
    import pickle

    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps({"format": "tgesweeper-detector"}))
    with pytest.raises(DetectorError, match="not a JSON detector model"):
        Detector.load(path)
    with pytest.raises(DetectorError, match="cannot read"):
        Detector.load(tmp_path / "absent.json")


def test_nan_in_a_model_file_is_refused(model, tmp_path):
    path = tmp_path / "nan.json"
    path.write_text(json.dumps(broken(model, intercept=math.nan)))
    with pytest.raises(DetectorError, match="intercept"):
        Detector.load(path)


def test_the_match_stage_scores_with_the_shipped_model_without_scikit_learn():
    probe = """
import sys
from tgesweeper.config import PROJECT_DIR, SHIPPED_DETECTOR_MODEL
from tgesweeper.matching import MatchConfig, MatchEngine, MatchInput
from tgesweeper.matching.detector import Detector
from tgesweeper.matching.detector import detector_signals, detector_text
engine = MatchEngine(MatchConfig((), (), (), 0.85, 100, 50), Detector.load(PROJECT_DIR / SHIPPED_DETECTOR_MODEL))
a = engine.assess(MatchInput(title="Quillstone to launch its QSN token on March 4", text=""))
p = engine.detector.probability(detector_text(a), detector_signals(a))
assert engine.judge(MatchInput(title="Quillstone to launch its QSN token on March 4", text="")).match
print(engine.detector.version, 0 < p < 1, sorted(m for m in sys.modules if m.split(".")[0] in ("sklearn", "scipy")))
"""
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    version, in_range, heavy = done.stdout.split(" ", 2)
    assert version.startswith("detector-v1+") and in_range == "True" and heavy.strip() == "[]"


def test_the_per_word_memo_leaves_scores_exactly_as_the_analyzer_gives_them(model):
    detector = Detector(model)
    block = next(b for b in detector._blocks if b.analyzer == "char_wb")

    def reference(text):
        counts = {}
        for gram in char_wb_ngrams(text, *block.ngram_range):
            if gram in block.terms:
                counts[gram] = counts.get(gram, 0) + 1
        values = [((1.0 + math.log(c)) * block.terms[g][0], block.terms[g][1]) for g, c in counts.items()]
        return sum(v * c for v, c in values) / math.sqrt(sum(v * v for v, _ in values)) if values else 0.0

    for text in ("Orbelle token goes live; token  TOKEN token", "Orbelle token goes live", "   ", "xproject"):
        for _ in range(2):  # the second pass reads the memo
            assert block.contribution(text) == pytest.approx(reference(text), rel=1e-12)


def test_no_ngram_contains_a_labeled_name_or_a_known_token_even_written_in_lowercase(match_config):
    """The old filter kept names the texts also wrote in lowercase; every word of a labeled project or ticker, and of
    the known-token list, is now out of every vocabulary."""
    corpus = items()
    for i, item in enumerate(corpus):
        item["text"] += f" Seen on solana by vendaro fans, vendaro style. {'Pexora' if i % 3 else 'pexora'} token rally."
    body = training.fit(training.examples(corpus, MatchEngine(match_config)), training.Params(), seed=0)
    words = next(b for b in body["text_features"] if b["analyzer"] == "word")["terms"]
    chars = next(b for b in body["text_features"] if b["analyzer"] == "char_wb")["terms"]
    for name in ("vendaro", "pexora", "solana"):
        assert not [t for t in words if name in t.split()], name
        assert not [t for t in chars if name[:4] in t or name in t], name
    assert "token" in words and "fans" in words  # the launch vocabulary and ordinary words stay
