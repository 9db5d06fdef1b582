import { describe, expect, it } from "vitest";
import { ago, changeLabel, confidenceClass, day, percent, seconds, ticker } from "./format";

describe("formatting", () => {
  it("reads numbers and dates the same on every page", () => {
    expect(percent(0.876)).toBe("88%");
    expect(day("2026-03-04")).toBe("4 Mar 2026");
    expect(day(null)).toBe("date not announced");
    expect(ticker("ABC")).toBe("$ABC");
    expect(ticker(null)).toBe("");
    expect(seconds(90)).toBe("90 s");
    expect(seconds(600)).toBe("10 min");
    expect(seconds(10800)).toBe("3.0 h");
    expect(seconds(null)).toBe("—");
  });

  it("says how long ago", () => {
    const now = new Date("2026-01-01T12:00:00Z");
    expect(ago("2026-01-01T11:59:58Z", now)).toBe("just now");
    expect(ago(null, now)).toBe("never");
  });

  it("names every change and colours confidence by band", () => {
    expect(changeLabel({ id: 1, kind: "date_changed", old: "2026-12-04", new: "2026-12-18" })).toBe(
      "date moved (was 4 Dec 2026)",
    );
    expect(changeLabel({ id: 2, kind: "postponed", old: { tge_date: "2026-12-04" } })).toBe(
      "postponed (was 4 Dec 2026)",
    );
    expect(changeLabel({ id: 3, kind: "date_set", old: null, new: "2026-12-04" })).toBe("date set");
    expect(confidenceClass(0.95)).toContain("emerald");
    expect(confidenceClass(0.6)).toContain("amber");
    expect(confidenceClass(0.2)).toContain("slate");
  });
});
