import { describe, expect, it } from "vitest";
import { supportingMention, timeline } from "./eventDetail";
import type { Mention, TGEEventDetail } from "./types";

function mention(id: number, created: string, extra: Partial<Mention> = {}): Mention {
  return {
    id,
    source: `source ${id}`,
    url: "",
    title: `title ${id}`,
    snippet: "",
    published_at: created,
    kind: "launch",
    confidence: 0.5,
    tge_date: null,
    chain: "",
    venues: [],
    created_at: created,
    ...extra,
  };
}

const event: TGEEventDetail = {
  id: 1,
  project: "Quill",
  ticker: "QLL",
  tge_date: "2026-05-20",
  previous_tge_date: "2026-05-01",
  chain: "Solana",
  venues: ["Binance"],
  status: "postponed",
  confidence: 0.9,
  is_candidate: false,
  review: "unreviewed",
  published: true,
  merged_into: null,
  mention_count: 3,
  source_count: 3,
  first_seen_at: "2026-01-01T00:00:00Z",
  last_seen_at: "2026-01-03T00:00:00Z",
  mentions: [
    mention(3, "2026-01-03T00:00:00Z", { tge_date: "2026-05-20", confidence: 0.7 }),
    mention(1, "2026-01-01T00:00:00Z", { tge_date: "2026-05-01", chain: "solana", confidence: 0.9 }),
    mention(2, "2026-01-02T00:00:00Z", { venues: ["Binance"] }),
  ],
};

describe("an event's evidence", () => {
  it("finds the mention behind each field", () => {
    expect(supportingMention(event, "tge_date")?.id).toBe(3);
    expect(supportingMention(event, "chain")?.id).toBe(1);
    expect(supportingMention(event, "venues")?.id).toBe(2);
    expect(supportingMention(event, "project")?.id).toBe(1);
    expect(supportingMention({ ...event, chain: "" }, "chain")).toBeNull();
  });

  it("tells the date's history in order", () => {
    expect(timeline(event).map((e) => [e.kind, e.mention.id])).toEqual([
      ["date_set", 1],
      ["mention", 1],
      ["mention", 2],
      ["date_changed", 3],
      ["mention", 3],
    ]);
  });
});
