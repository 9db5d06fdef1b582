"""Terminal tables for the sweep and demo commands (rich)."""
from __future__ import annotations

import logging
import sys

from rich.console import Console
from rich.table import Table

from api.models import SweepSource, TGEEvent


def make_console() -> Console:
    """A terminal's own width, or a wide one when piped (rich would otherwise cut names at 80 columns)."""
    return Console() if sys.stdout.isatty() else Console(width=200)


def quiet_task_logs() -> None:
    """In-process sweeps would print a line per task; the tables say what happened."""
    for name in ("celery", "api.live_stream"):
        logging.getLogger(name).setLevel(logging.WARNING)


def sources_table(rows: list[SweepSource]) -> Table:
    table = Table(title="Sources", title_justify="left")
    for column in ("source", "result", "new documents", "error"):
        table.add_column(column)
    for row in rows:
        result = "not modified (304)" if row.not_modified else row.state
        table.add_row(row.source.name, result, str(row.documents_new), row.error or "")
    return table


def events_table(events: list[TGEEvent], title: str = "TGE events found") -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("project", "ticker", "TGE date", "status", "confidence", "sources"):
        table.add_column(column)
    for event in events:
        names = sorted({m.source.name for m in event.mentions.select_related("source")})
        confidence = f"{event.confidence:.2f}" + (" (candidate)" if event.is_candidate else "")
        table.add_row(event.project, event.ticker or "—", event.tge_date.isoformat() if event.tge_date else "—",
                      event.status, confidence, ", ".join(names))
    return table


def print_sweep(console: Console, sources: list[SweepSource], events: list[TGEEvent]) -> None:
    console.print(sources_table(sources))
    console.print(events_table(events) if events else "No TGE events found in this sweep.")
    failed = [row for row in sources if row.state == SweepSource.State.FAILED]
    if failed:
        console.print(f"[red]{len(failed)} source(s) failed[/red]: " + "; ".join(f"{r.source.name}: {r.error}" for r in failed))
