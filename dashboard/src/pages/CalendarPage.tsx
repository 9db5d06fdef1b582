import { useQuery } from "@tanstack/react-query";
import { format, isSameMonth, isToday } from "date-fns";
import { Link, useSearchParams } from "react-router-dom";
import { Confidence } from "../components/Badges";
import { Button } from "../components/Controls";
import { Empty, ErrorState, Loading } from "../components/States";
import { api } from "../lib/api";
import { byDay, isoDay, parseAnchor, rangeFor, shift, type Span } from "../lib/calendar";
import { day, ticker } from "../lib/format";

const MAX_EVENTS = 500;

export default function CalendarPage() {
  const [params, setParams] = useSearchParams();
  const span: Span = params.get("view") === "week" ? "week" : "month";
  const anchor = parseAnchor(params.get("date"));
  const range = rangeFor(span, anchor);
  const query = useQuery({
    queryKey: ["calendar", isoDay(range.from), isoDay(range.to)],
    queryFn: () =>
      api.events({
        tge_date_from: isoDay(range.from),
        tge_date_to: isoDay(range.to),
        ordering: "tge_date",
        limit: String(MAX_EVENTS),
      }),
  });

  const go = (next: { view?: Span; date?: Date }) =>
    setParams({ view: next.view ?? span, date: isoDay(next.date ?? anchor) });

  const days = byDay(query.data?.results ?? []);
  const title =
    span === "month" ? format(anchor, "MMMM yyyy") : `Week of ${format(range.from, "d MMM yyyy")}`;

  return (
    <section aria-labelledby="calendar-title">
      <div className="flex flex-wrap items-center gap-3">
        <h1 id="calendar-title" className="text-2xl font-bold">
          Calendar: {title}
        </h1>
        <div className="ml-auto flex flex-wrap gap-2 text-sm">
          <Button onClick={() => go({ date: shift(span, anchor, -1) })}>← Previous {span}</Button>
          <Button onClick={() => go({ date: new Date() })}>Today</Button>
          <Button onClick={() => go({ date: shift(span, anchor, 1) })}>Next {span} →</Button>
          <Button
            look={span === "week" ? "primary" : "outline"}
            aria-pressed={span === "week"}
            onClick={() => go({ view: "week" })}
          >
            Week
          </Button>
          <Button
            look={span === "month" ? "primary" : "outline"}
            aria-pressed={span === "month"}
            onClick={() => go({ view: "month" })}
          >
            Month
          </Button>
        </div>
      </div>
      {query.isPending ? (
        <Loading what="the calendar" />
      ) : query.isError ? (
        <ErrorState error={query.error} retry={() => void query.refetch()} />
      ) : (
        <>
          {query.data.results.length === 0 && <Empty>No TGE dates in this {span}.</Empty>}
          <ol className="mt-4 grid grid-cols-1 gap-px overflow-hidden rounded border border-slate-200 bg-slate-200 sm:grid-cols-7">
            {range.days.map((date) => {
              const events = days.get(isoDay(date)) ?? [];
              const faded = span === "month" && !isSameMonth(date, anchor);
              return (
                <li
                  key={isoDay(date)}
                  aria-label={`${format(date, "EEEE d MMMM")}: ${events.length} events`}
                  className={`min-h-24 bg-white p-2 ${faded ? "text-slate-500" : ""} ${span === "week" ? "min-h-48" : ""}`}
                >
                  <p className={`text-xs font-semibold ${isToday(date) ? "text-blue-800" : ""}`}>
                    {format(date, "EEE d")}
                    {isToday(date) ? " · today" : ""}
                  </p>
                  <ul className="mt-1 space-y-1">
                    {events.map((e) => (
                      <li key={e.id} className="text-xs">
                        <Link
                          to={`/events/${e.id}`}
                          className="block truncate font-semibold text-blue-800 underline"
                        >
                          {e.project} {ticker(e.ticker)}
                        </Link>
                        <Confidence value={e.confidence} />
                        {e.status === "postponed" && (
                          <span className="ml-1 rounded bg-orange-100 px-1 text-orange-900">
                            postponed{e.previous_tge_date ? ` (was ${day(e.previous_tge_date)})` : ""}
                          </span>
                        )}
                      </li>
                    ))}
                  </ul>
                </li>
              );
            })}
          </ol>
          {query.data.count > MAX_EVENTS && (
            <p className="mt-2 text-sm text-slate-700">
              Showing the first {MAX_EVENTS} events of this {span}; narrow it on the Events page.
            </p>
          )}
        </>
      )}
    </section>
  );
}
