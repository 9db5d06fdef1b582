"""TGE detection: finds token launch announcements in a document and says how sure it is. No Django, no Celery."""
from tgesweeper.matching.engine import MatchConfig, MatchEngine, get_engine
from tgesweeper.matching.types import KINDS, Match, MatchInput, Verdict

__all__ = ("KINDS", "Match", "MatchConfig", "MatchEngine", "MatchInput", "Verdict", "get_engine")
