import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router-dom";
import { Confidence, Status } from "../components/Badges";
import { Button, DataTable, headings, InputField, SelectField, Th } from "../components/Controls";
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

const CHOICES: [FilterName, string, string[]][] = [
  ["status", "Status", ["", "announced", "scheduled", "live", "postponed"]],
  ["review", "Review", ["", "unreviewed", "confirmed", "rejected", "merged"]],
];

/** A column heading that sorts by its field; a second click reverses the order. */
function SortableTh({
  field,
  label,
  ordering,
  sortBy,
}: {
  field: string;
  label: string;
  ordering: string;
  sortBy: (field: string) => void;
}) {
  const active = ordering.replace("-", "") === field;
  const descending = ordering.startsWith("-");
  return (
    <Th aria-sort={active ? (descending ? "descending" : "ascending") : "none"}>
      <button type="button" onClick={() => sortBy(field)} className="font-semibold underline">
        {label}
        {active ? (descending ? " ↓" : " ↑") : ""}
      </button>
    </Th>
  );
}

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
          <InputField
            key={f.name}
            label={f.label}
            name={f.name}
            type={f.type}
            step={f.type === "number" ? "0.05" : undefined}
            min={f.type === "number" ? 0 : undefined}
            max={f.type === "number" ? 1 : undefined}
            placeholder={f.placeholder}
            value={draft[f.name] ?? ""}
            onChange={(e) => set(f.name, e.target.value)}
          />
        ))}
        {CHOICES.map(([name, label, options]) => (
          <SelectField
            key={name}
            label={label}
            name={name}
            options={options}
            value={draft[name] ?? ""}
            onChange={(e) => set(name, e.target.value)}
          />
        ))}
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
          <Button type="submit" look="primary">
            Apply filters
          </Button>
          <Button
            onClick={() => {
              setDraft({});
              go({ filters: {}, page: 1 });
            }}
          >
            Clear
          </Button>
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
            <DataTable
              caption="TGE events matching the filters"
              className="mt-4"
              columns={
                <>
                  {headings(["Project", "Ticker", "Status", "Chain"])}
                  {SORTABLE.map(([field, label]) => (
                    <SortableTh
                      key={field}
                      field={field}
                      label={label}
                      ordering={view.ordering}
                      sortBy={sortBy}
                    />
                  ))}
                  {headings(["Review"])}
                </>
              }
            >
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
            </DataTable>
            <nav aria-label="Pages" className="mt-3 flex flex-wrap items-center gap-3 text-sm">
              <Button disabled={view.page <= 1} onClick={() => go({ page: view.page - 1 })}>
                Previous
              </Button>
              <span>
                Page {view.page} of {pages}
                {data.count_exact ? "" : "+"} ({data.count}
                {data.count_exact ? "" : "+"} events)
              </span>
              <Button disabled={!data.next} onClick={() => go({ page: view.page + 1 })}>
                Next
              </Button>
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
