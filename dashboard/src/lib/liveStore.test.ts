import { beforeEach, describe, expect, it } from "vitest";
import { compareLogIds, MAX_ROWS, parseTickers, useLive } from "./liveStore";
import type { LiveEvent } from "./types";

function event(id: number, extra: Partial<LiveEvent> = {}): LiveEvent {
  return {
    id,
    project: `Project ${id}`,
    ticker: null,
    tge_date: null,
    status: "announced",
    chain: null,
    confidence: 0.9,
    is_candidate: false,
    mention_count: 1,
    source_count: 1,
    first_seen_at: "2026-01-01T00:00:00Z",
    last_seen_at: "2026-01-01T00:00:00Z",
    ...extra,
  };
}

describe("the live store", () => {
  beforeEach(() => useLive.setState({ rows: [], lastId: null }));

  it("puts the newest first and moves a changed event to the top, once", () => {
    const { receive } = useLive.getState();
    receive({ log_id: "1-0", event: event(1) });
    receive({ log_id: "2-0", event: event(2) });
    receive({
      log_id: "3-0",
      event: event(1, { status: "postponed", changes: [{ id: 9, kind: "postponed" }] }),
    });
    const rows = useLive.getState().rows;
    expect(rows.map((r) => [r.event.id, r.event.status])).toEqual([
      [1, "postponed"],
      [2, "announced"],
    ]);
    expect(useLive.getState().lastId).toBe("3-0");
  });

  it("ignores a replayed message it has already shown", () => {
    const { receive } = useLive.getState();
    receive({ log_id: "5-0", event: event(1) });
    receive({ log_id: "4-0", event: event(2) });
    receive({ log_id: "5-0", event: event(1) });
    expect(useLive.getState().rows.map((r) => r.event.id)).toEqual([1]);
  });

  it("starts from the server's position only when it has seen nothing", () => {
    useLive.getState().startAt("7-0");
    expect(useLive.getState().lastId).toBe("7-0");
    useLive.getState().receive({ log_id: "9-0", event: event(1) });
    useLive.getState().startAt("8-0");
    expect(useLive.getState().lastId).toBe("9-0");
  });

  it("keeps at most MAX_ROWS rows", () => {
    const { receive } = useLive.getState();
    for (let i = 1; i <= MAX_ROWS + 20; i++) receive({ log_id: `${i}`, event: event(i) });
    expect(useLive.getState().rows).toHaveLength(MAX_ROWS);
    expect(useLive.getState().rows[0].event.id).toBe(MAX_ROWS + 20);
  });

  it("orders Redis stream ids and row ids numerically", () => {
    expect(compareLogIds("1700000000000-10", "1700000000000-9")).toBe(1);
    expect(compareLogIds("99", "100")).toBe(-1);
    expect(compareLogIds("7-0", "7")).toBe(0);
  });

  it("reads a watch list however it is typed", () => {
    expect(parseTickers(" $abc, xyz  ABC,,")).toEqual(["ABC", "XYZ"]);
  });
});
