"""Per-source circuit breaker, as pure decisions (the store keeps the state on the Source row).

closed → (``threshold`` consecutive failed fetches) → open → (``recovery`` seconds) → half-open: one trial fetch;
its success closes the circuit, its failure opens it again for another ``recovery`` seconds. A half-open trial
whose worker died is retried after ``recovery`` too, so a source is never stuck.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"


@dataclass(frozen=True)
class Admission:
    allowed: bool
    trial: bool = False  # the caller must claim the trial (only one worker may make it)
    resume_at: datetime | None = None


def admit(state: str, opened_at: datetime | None, now: datetime, recovery_seconds: float) -> Admission:
    if state == CLOSED or opened_at is None:
        return Admission(True)
    resume_at = opened_at + timedelta(seconds=recovery_seconds)
    if now >= resume_at:
        return Admission(True, trial=True)
    return Admission(False, resume_at=resume_at)


def state_after_failure(state: str, consecutive_failures: int, threshold: int) -> str:
    """``consecutive_failures`` counts this failure too."""
    if state == HALF_OPEN or consecutive_failures >= threshold:
        return OPEN
    return state
