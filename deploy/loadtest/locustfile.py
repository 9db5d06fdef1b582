"""The API's load test (the technology spec's mix: list 3 : search 2 : metrics 1), authenticated with an API key.

    TGE_API_KEY=tge_... locust -f deploy/loadtest/locustfile.py --host http://127.0.0.1:8000

``manage.py benchmark api`` runs it headless against a seeded database and prints the figures. Each user reads
one page first and draws its filter values (tickers, chains, projects, sources) from what the API returned, so
the mix exercises real filters rather than values that match nothing.
"""
from __future__ import annotations

import os
import random

from locust import HttpUser, between, task

API = "/api/v1"
CHAINS = ("ethereum", "solana", "base", "arbitrum", "bnb")
ORDERINGS = ("-first_seen_at", "-confidence", "tge_date")


class ApiReader(HttpUser):
    wait_time = between(float(os.environ.get("LOCUST_WAIT_MIN", "0.1")), float(os.environ.get("LOCUST_WAIT_MAX", "0.5")))

    def on_start(self) -> None:
        self.client.headers["Authorization"] = f"Api-Key {os.environ['TGE_API_KEY']}"
        page = self.client.get(f"{API}/tge-events?limit=100&include_candidates=true", name="list (first page)").json()
        events = page.get("results") or [{}]
        self.tickers = [e["ticker"] for e in events if e.get("ticker")] or ["BTC"]
        self.projects = [e["project"] for e in events if e.get("project")] or ["Example"]
        self.chains = sorted({e["chain"] for e in events if e.get("chain")}) or list(CHAINS)
        self.sources = os.environ.get("LOCUST_SOURCES", "").split(",") if os.environ.get("LOCUST_SOURCES") else []

    @task(3)
    def list_events(self) -> None:
        name, params = random.choice(self._list_variants())
        self.client.get(f"{API}/tge-events", params=params, name=f"list {name}")

    @task(2)
    def search_events(self) -> None:
        filters = random.choice((
            {"companies": [random.choice(self.projects)]},
            {"tickers": random.sample(self.tickers, min(3, len(self.tickers))), "confidence_min": 0.7},
            {"chains": [random.choice(self.chains)], "confidence_min": round(random.uniform(0.6, 0.95), 2)},
        ))
        self.client.post(f"{API}/tge-events/search", json={"filters": filters, "limit": 50}, name="search")

    @task(1)
    def metrics(self) -> None:
        self.client.get(f"{API}/system/metrics", name="metrics")

    def _list_variants(self) -> list[tuple[str, dict]]:
        variants = [
            ("newest", {"limit": 50}),
            ("page", {"limit": 50, "offset": random.randrange(0, 2000, 50)}),
            ("ticker", {"ticker": random.choice(self.tickers)}),
            ("chain+confidence", {"chain": random.choice(self.chains), "confidence_min": 0.8}),
            ("ordering", {"ordering": random.choice(ORDERINGS), "limit": 50}),
            ("q", {"q": random.choice(self.projects).split()[0]}),
            ("since", {"since": f"2026-{random.randint(1, 10):02d}-01T00:00:00Z"}),
        ]
        if self.sources:
            variants.append(("source", {"source": random.choice(self.sources)}))
        return variants
