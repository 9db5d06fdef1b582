"""The match stage's engine for the measuring commands (``evaluate``, ``benchmark match``, ``train_detector``), which
also run on a fresh clone whose database is not migrated yet: the match stage itself always has its rules table."""
from __future__ import annotations

import logging

from django.core.management.base import CommandError
from django.db import DatabaseError, connection

from api.keyword_rules import build_engine
from api.models import KeywordRule
from tgesweeper.matching import MatchEngine

log = logging.getLogger(__name__)


def stage_engine(detector: bool | str = True) -> MatchEngine:
    """``build_engine`` as the match stage runs it; without the keyword rules' table, the configured vocabulary alone
    (said in one line); any other database trouble is a one-line command error, not a traceback."""
    try:
        return build_engine(detector)
    except DatabaseError as exc:
        if _has_rules_table():
            raise CommandError(f"cannot read the keyword rules the match stage uses: {exc}") from None
    log.warning("keyword rules: none (the database has no %s table: not migrated); "
                "matching with the configured vocabulary only", KeywordRule._meta.db_table)
    return build_engine(detector, rules=False)


def _has_rules_table() -> bool:
    try:
        return KeywordRule._meta.db_table in connection.introspection.table_names()
    except DatabaseError:  # the database cannot be asked at all: not a missing table
        return True
