"""A small labeled corpus written for the detector's tests: invented projects, launch and non-launch phrasings."""
from __future__ import annotations

import json
from pathlib import Path

NAMES = ("Quillstone", "Ferrowind", "Maravel", "Tessaline", "Orbelle", "Caskwood", "Vendaro", "Lumivar", "Pexora",
         "Brindle", "Solvane", "Ketharo", "Draymist", "Olvenia", "Zephrane", "Halcyra")
LAUNCHES = (
    ("{name} to launch {tick} token on March {day}", "{name} said its token generation event is set for March {day}."),
    ("{name} ({tick}) token goes live as airdrop claims open", "The {tick} token began trading today."),
    ("{name} unveils native token {tick}", "The project introduced its governance token to users."),
    ("{name} token debuts on Kraken", "{tick} started trading after the launch."),
)
OTHERS = (
    ("Bitcoin token price slips {day}% as traders wait", "Analysts see support near recent lows."),
    ("{name} may launch a token next year, founder hints", "Nothing has been confirmed."),
    ("Why token launches disappoint investors", "An explainer on the market for new coins."),
    ("Ether holders move coins to exchanges as volume falls", "Trading was quiet on Tuesday."),
)


def items(count: int = 48) -> list[dict]:
    """``count`` items, launches and others alternating, one a day from 2025-01-01."""
    found = []
    for i in range(count):
        name = NAMES[i % len(NAMES)] + ("" if i < len(NAMES) else f" {i}")
        tick = (NAMES[i % len(NAMES)][:3] + "XYZ"[i // len(NAMES) % 3]).upper()
        launch = i % 2 == 0
        title, text = (LAUNCHES if launch else OTHERS)[(i // 2) % 4]
        values = {"name": name, "tick": tick, "day": 1 + i % 27}
        found.append({"id": f"t:{i}", "source": "test", "url": f"https://news.example.com/{i}",
                      "published_at": f"2025-{1 + i // 28:02d}-{1 + i % 28:02d}T09:00:00Z",
                      "title": title.format(**values), "text": text.format(**values),
                      "label": "tge" if launch else "other", "project": name if launch else None,
                      "ticker": tick if launch else None, "tge_date": None, "kind": "live" if launch else None})
    return found


def write(path: Path, count: int = 48) -> Path:
    path.write_text("".join(json.dumps(item) + "\n" for item in items(count)), encoding="utf-8")
    return path
