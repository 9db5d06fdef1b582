import { describe, expect, it } from "vitest";
import { byDay, isoDay, parseAnchor, rangeFor, shift } from "./calendar";
import { eventsPerDay } from "./metrics";

describe("the calendar", () => {
  it("shows whole weeks, Monday first", () => {
    const month = rangeFor("month", new Date(2026, 1, 14)); // February 2026 starts on a Sunday
    expect(isoDay(month.from)).toBe("2026-01-26");
    expect(isoDay(month.to)).toBe("2026-03-01");
    expect(month.days).toHaveLength(35);
    const week = rangeFor("week", new Date(2026, 1, 14));
    expect(week.days.map(isoDay)).toEqual([
      "2026-02-09",
      "2026-02-10",
      "2026-02-11",
      "2026-02-12",
      "2026-02-13",
      "2026-02-14",
      "2026-02-15",
    ]);
    expect(isoDay(shift("month", new Date(2026, 0, 31), 1))).toBe("2026-02-28");
  });

  it("places events on their TGE day and reads a bad anchor as today", () => {
    const days = byDay([
      { id: 1, tge_date: "2026-02-10" },
      { id: 2, tge_date: null },
      { id: 3, tge_date: "2026-02-10" },
    ]);
    expect(days.get("2026-02-10")?.map((e) => e.id)).toEqual([1, 3]);
    const today = new Date(2026, 5, 1);
    expect(parseAnchor("2026-13-45", today)).toBe(today);
    expect(isoDay(parseAnchor("2026-03-09", today))).toBe("2026-03-09");
  });

  it("stacks events per day by status for the metrics chart", () => {
    const { rows, statuses } = eventsPerDay([
      { day: "2026-02-02", status: "scheduled", count: 2 },
      { day: "2026-02-01", status: "announced", count: 1 },
      { day: "2026-02-02", status: "announced", count: 4 },
    ]);
    expect(statuses).toEqual(["announced", "scheduled"]);
    expect(rows).toEqual([
      { day: "1 Feb", announced: 1 },
      { day: "2 Feb", scheduled: 2, announced: 4 },
    ]);
  });
});
