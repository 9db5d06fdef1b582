import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router-dom";
import { Confidence, Status } from "../components/Badges";
import { Empty, ErrorState, Loading } from "../components/States";
import { api } from "../lib/api";
import {
  apiQuery,
  PAGE_SIZES,
  paramsFromView,
  viewFromParams,
  type EventsView,
  type FilterName,
} from "../lib/eventFilters";
import { dateTime, day, ticker } from "../lib/format";

const FIELDS: { name: FilterName; label: string; type?: string; placeholder?: string }[] = [
  { name: "q", label: "Text", placeholder: "project or ticker" },
  { name: "project", label: "Project / company", placeholder: "comma-separated" },
  { name: "ticker", label: "Ticker", placeholder: "ABC, XYZ" },
  { name: "chain", label: "Chain", placeholder: "ethereum" },
  { name: "source", label: "Source", placeholder: "source name" },
  { name: "confidence_min", label: "Confidence ≥", type: "number" },
  { name: "tge_date_from", label: "TGE from", type: "date" },
  { name: "tge_date_to", label: "TGE to", type: "date" },
  { name: "since", label: "First seen from", type: "date" },
  { name: "until", label: "First seen before", type: "date" },
];

const SORTABLE: [string, string][] = [
  ["tge_date", "TGE date"],
  ["confidence", "Confidence"],
  ["first_seen_at", "First seen"],
];

const STATUSES = ["", "announced", "scheduled", "live", "postponed"];
const REVIEWS = ["", "unreviewed", "confirmed", "rejected", "merged"];

export default function EventsPage() {
  const [params, setParams] = useSearchParams();
  const view = viewFromParams(params);
  const [draft, setDraft] = useState(view.filters);
  const query = useQuery({
    queryKey: ["events", apiQuery(view)],
    queryFn: () => api.events(apiQuery(view)),
    placeholderData: keepPreviousData,
  });

  function go(next: Partial<EventsView>) {
    setParams(paramsFromView({ ...view, ...next }));
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    go({ filters: draft, page: 1 });
  }

  function sortBy(field: string) {
    go({ ordering: view.ordering === `-${field}` ? field : `-${field}`, page: 1 });
  }

  const set = (name: FilterName, value: string) => setDraft({ ...draft, [name]: value });
  const data = query.data;
  const pages = data ? Math.max(1, Math.ceil(data.count / view.pageSize)) : 1;

  return (
    <section aria-labelledby="events-title">
      <h1 id="events-title" className="text-2xl font-bold">
        Events
      </h1>
      <form
        onSubmit={submit}
        aria-label="Filters"
        className="mt-3 grid grid-cols-2 gap-3 md:grid-cols-4 lg:grid-cols-6"
      >
        {FIELDS.map((f) => (
          <label key={f.name} className="text-sm">
            {f.label}
            <input
              name={f.name}
              type={f.type ?? "text"}
              step={f.type === "number" ? "0.05" : undefined}
              min={f.type === "number" ? 0 : undefined}
              max={f.type === "number" ? 1 : undefined}
              placeholder={f.placeholder}
              value={draft[f.name] ?? ""}
              onChange={(e) => set(f.name, e.target.value)}
              className="mt-1 w-full rounded border border-slate-400 px-2 py-1"
            />
          </label>
        ))}
        <label className="text-sm">
          Status
          <select
            name="status"
            value={draft.status ?? ""}
            onChange={(e) => set("status", e.target.value)}
            className="mt-1 w-full rounded border border-slate-400 px-2 py-1"
          >
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s || "any"}
              </option>
            ))}
          </select>
        </label>
        <label className="text-sm">
          Review
          <select
            name="review"
            value={draft.review ?? ""}
            onChange={(e) => set("review", e.target.value)}
            className="mt-1 w-full rounded border border-slate-400 px-2 py-1"
          >
            {REVIEWS.map((s) => (
              <option key={s} value={s}>
                {s || "any"}
              </option>
            ))}
          </select>
        </label>
        <label className="flex items-center gap-2 self-end text-sm">
          <input
            type="checkbox"
            name="include_candidates"
            checked={draft.include_candidates === "true"}
            onChange={(e) => set("include_candidates", e.target.checked ? "true" : "")}
          />
          Include candidates
        </label>
        <div className="flex items-end gap-2">
          <button type="submit" className="rounded bg-slate-900 px-3 py-1.5 text-sm text-white">
            Apply filters
          </button>
          <button
            type="button"
            onClick={() => {
              setDraft({});
              go({ filters: {}, page: 1 });
            }}
            className="rounded border border-slate-400 px-3 py-1.5 text-sm"
          >
            Clear
          </button>
        </div>
      </form>

      {query.isPending ? (
        <Loading what="events" />
      ) : query.isError ? (
        <ErrorState error={query.error} retry={() => void query.refetch()} />
      ) : data && data.results.length === 0 ? (
        <Empty>
          No events match these filters.
          {Object.keys(view.filters).length > 0 && " Clear some filters to see more."}
        </Empty>
      ) : (
        data && (
          <>
            <div className="mt-4 overflow-x-auto rounded border border-slate-200 bg-white">
              <table className="w-full text-left text-sm">
                <caption className="sr-only">TGE events matching the filters</caption>
                <thead className="bg-slate-100">
                  <tr>
                    <th scope="col" className="px-3 py-2">
                      Project
                    </th>
                    <th scope="col" className="px-3 py-2">
                      Ticker
                    </th>
                    <th scope="col" className="px-3 py-2">
                      Status
                    </th>
                    <th scope="col" className="px-3 py-2">
                      Chain
                    </th>
                    {SORTABLE.map(([field, label]) => {
                      const active = view.ordering.replace("-", "") === field;
                      const descending = view.ordering.startsWith("-");
                      return (
                        <th
                          key={field}
                          scope="col"
                          className="px-3 py-2"
                          aria-sort={active ? (descending ? "descending" : "ascending") : "none"}
                        >
                          <button
                            type="button"
                            onClick={() => sortBy(field)}
                            className="font-semibold underline"
                          >
                            {label}
                            {active ? (descending ? " ↓" : " ↑") : ""}
                          </button>
                        </th>
                      );
                    })}
                    <th scope="col" className="px-3 py-2">
                      Review
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {data.results.map((e) => (
                    <tr key={e.id} className="border-t border-slate-200">
                      <td className="max-w-xs truncate px-3 py-2">
                        <Link to={`/events/${e.id}`} className="font-semibold text-blue-800 underline">
                          {e.project}
                        </Link>
                      </td>
                      <td className="px-3 py-2">{ticker(e.ticker)}</td>
                      <td className="px-3 py-2">
                        <Status value={e.status} />
                      </td>
                      <td className="px-3 py-2">{e.chain}</td>
                      <td className="whitespace-nowrap px-3 py-2">{day(e.tge_date)}</td>
                      <td className="px-3 py-2">
                        <Confidence value={e.confidence} />
                      </td>
                      <td className="whitespace-nowrap px-3 py-2">{dateTime(e.first_seen_at)}</td>
                      <td className="px-3 py-2">{e.review}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <nav aria-label="Pages" className="mt-3 flex flex-wrap items-center gap-3 text-sm">
              <button
                type="button"
                disabled={view.page <= 1}
                onClick={() => go({ page: view.page - 1 })}
                className="rounded border border-slate-400 px-3 py-1 disabled:opacity-50"
              >
                Previous
              </button>
              <span>
                Page {view.page} of {pages}
                {data.count_exact ? "" : "+"} ({data.count}
                {data.count_exact ? "" : "+"} events)
              </span>
              <button
                type="button"
                disabled={!data.next}
                onClick={() => go({ page: view.page + 1 })}
                className="rounded border border-slate-400 px-3 py-1 disabled:opacity-50"
              >
                Next
              </button>
              <label className="ml-auto">
                Per page
                <select
                  value={view.pageSize}
                  onChange={(e) => go({ pageSize: Number(e.target.value), page: 1 })}
                  className="ml-2 rounded border border-slate-400 px-2 py-1"
                >
                  {PAGE_SIZES.map((n) => (
                    <option key={n}>{n}</option>
                  ))}
                </select>
              </label>
            </nav>
          </>
        )
      )}
    </section>
  );
}
