import { describe, expect, it } from "vitest";
import { apiQuery, paramsFromView, viewFromParams } from "./eventFilters";

describe("the Events view in the URL", () => {
  it("round-trips every filter, the ordering and the page", () => {
    const url =
      "ticker=ABC&status=scheduled&confidence_min=0.8&include_candidates=true&ordering=tge_date&page=3&size=25";
    const view = viewFromParams(new URLSearchParams(url));
    expect(view).toEqual({
      filters: { ticker: "ABC", status: "scheduled", confidence_min: "0.8", include_candidates: "true" },
      ordering: "tge_date",
      page: 3,
      pageSize: 25,
    });
    expect(viewFromParams(paramsFromView(view))).toEqual(view);
  });

  it("leaves defaults out of the URL and reads nonsense as the default", () => {
    const view = viewFromParams(new URLSearchParams("page=-2&size=7&ordering=DROP&unknown=1&q=%20%20"));
    expect(view).toEqual({ filters: {}, ordering: "-first_seen_at", page: 1, pageSize: 50 });
    expect(paramsFromView(view).toString()).toBe("");
  });

  it("asks the API for the page's rows and turns days into UTC instants", () => {
    const view = viewFromParams(new URLSearchParams("since=2026-01-02&tge_date_to=2026-02-01&page=2"));
    expect(apiQuery(view)).toEqual({
      since: "2026-01-02T00:00:00Z",
      tge_date_to: "2026-02-01",
      ordering: "-first_seen_at",
      limit: "50",
      offset: "50",
    });
  });
});
