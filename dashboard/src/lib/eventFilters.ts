/**
 * The Events page's view lives in the URL (bookmark it, share it): every filter of `GET /api/v1/tge-events`,
 * the ordering and the page. These functions turn a URL's search params into the API's query and back.
 */
export const FILTERS = [
  "project",
  "ticker",
  "status",
  "review",
  "chain",
  "source",
  "confidence_min",
  "since",
  "until",
  "tge_date_from",
  "tge_date_to",
  "q",
  "include_candidates",
] as const;
export type FilterName = (typeof FILTERS)[number];

export const ORDERINGS = [
  "-first_seen_at",
  "first_seen_at",
  "-tge_date",
  "tge_date",
  "-confidence",
  "confidence",
];
export const PAGE_SIZES = [25, 50, 100];
export const DEFAULT_PAGE_SIZE = 50;

export interface EventsView {
  filters: Partial<Record<FilterName, string>>;
  ordering: string;
  page: number;
  pageSize: number;
}

function positiveInt(raw: string | null, fallback: number): number {
  const value = Number(raw);
  return Number.isInteger(value) && value > 0 ? value : fallback;
}

export function viewFromParams(params: URLSearchParams): EventsView {
  const filters: EventsView["filters"] = {};
  for (const name of FILTERS) {
    const value = params.get(name)?.trim();
    if (value) filters[name] = value;
  }
  const ordering = params.get("ordering") ?? "";
  const size = positiveInt(params.get("size"), DEFAULT_PAGE_SIZE);
  return {
    filters,
    ordering: ORDERINGS.includes(ordering) ? ordering : ORDERINGS[0],
    page: positiveInt(params.get("page"), 1),
    pageSize: PAGE_SIZES.includes(size) ? size : DEFAULT_PAGE_SIZE,
  };
}

/** The URL's params for a view: defaults are left out, so the shortest URL means the default view. */
export function paramsFromView(view: EventsView): URLSearchParams {
  const params = new URLSearchParams();
  for (const name of FILTERS) {
    const value = view.filters[name]?.trim();
    if (value) params.set(name, value);
  }
  if (view.ordering !== ORDERINGS[0]) params.set("ordering", view.ordering);
  if (view.page > 1) params.set("page", String(view.page));
  if (view.pageSize !== DEFAULT_PAGE_SIZE) params.set("size", String(view.pageSize));
  return params;
}

/** The API's query for a view: dates of a day (`since`, `until`) become the start of that day in UTC. */
export function apiQuery(view: EventsView): Record<string, string> {
  const query: Record<string, string> = {};
  for (const [name, value] of Object.entries(view.filters)) {
    if (!value) continue;
    query[name] =
      (name === "since" || name === "until") && /^\d{4}-\d{2}-\d{2}$/.test(value)
        ? `${value}T00:00:00Z`
        : value;
  }
  query.ordering = view.ordering;
  query.limit = String(view.pageSize);
  query.offset = String((view.page - 1) * view.pageSize);
  return query;
}
