import { useState, type FormEvent } from "react";
import { Link } from "react-router-dom";
import { ChangeBadge, Confidence, Status } from "../components/Badges";
import { Empty } from "../components/States";
import { ago, day, ticker } from "../lib/format";
import { changeLiveFilter } from "../lib/liveSocket";
import { parseTickers, useLive } from "../lib/liveStore";

const FLOORS = [0, 0.5, 0.7, 0.8, 0.9];

export function LivePage() {
  const rows = useLive((s) => s.rows);
  const missed = useLive((s) => s.missed);
  const filter = useLive((s) => s.filter);
  const [floor, setFloor] = useState(String(filter.confidenceMin));
  const [tickers, setTickers] = useState(filter.tickers.join(", "));

  function apply(event: FormEvent) {
    event.preventDefault();
    changeLiveFilter({ confidenceMin: Number(floor), tickers: parseTickers(tickers) });
  }

  return (
    <section aria-labelledby="live-title">
      <div className="flex flex-wrap items-end gap-4">
        <h1 id="live-title" className="text-2xl font-bold">
          Live
        </h1>
        <form onSubmit={apply} className="ml-auto flex flex-wrap items-end gap-2">
          <label className="text-sm">
            Confidence at least
            <select
              value={floor}
              onChange={(e) => setFloor(e.target.value)}
              className="ml-2 rounded border border-slate-400 px-2 py-1"
            >
              {FLOORS.map((f) => (
                <option key={f} value={f}>
                  {Math.round(f * 100)}%
                </option>
              ))}
            </select>
          </label>
          <label className="text-sm">
            Watch tickers
            <input
              value={tickers}
              onChange={(e) => setTickers(e.target.value)}
              placeholder="e.g. ABC, XYZ"
              className="ml-2 w-40 rounded border border-slate-400 px-2 py-1"
            />
          </label>
          <button type="submit" className="rounded bg-slate-900 px-3 py-1 text-sm text-white">
            Apply
          </button>
        </form>
      </div>
      <p className="mt-1 text-sm text-slate-600">
        New and changed events appear here as the sweeper persists them, newest first.
      </p>
      {missed && (
        <p role="status" className="mt-2 rounded bg-amber-50 p-2 text-sm text-amber-900">
          Some changes happened while this page was away longer than the server keeps them; the{" "}
          <Link to="/events" className="underline">
            Events
          </Link>{" "}
          page has everything.
        </p>
      )}
      {rows.length === 0 ? (
        <Empty>Waiting for new or changed events… (nothing has arrived since this page opened)</Empty>
      ) : (
        <ul
          aria-label="Live events"
          className="mt-4 divide-y divide-slate-200 rounded border border-slate-200 bg-white"
        >
          {rows.map(({ event, log_id, receivedAt }) => (
            <li
              key={`${event.id}-${log_id ?? receivedAt}`}
              className="flex flex-wrap items-center gap-3 px-4 py-3"
            >
              <Link
                to={`/events/${event.id}`}
                className="min-w-0 max-w-md truncate font-semibold text-blue-800 underline"
              >
                {event.project}
              </Link>
              <span className="text-slate-700">{ticker(event.ticker)}</span>
              {(event.changes ?? []).map((c) => (
                <ChangeBadge key={c.id} change={c} />
              ))}
              <Status value={event.status} />
              <Confidence value={event.confidence} />
              <span className="text-sm text-slate-700">TGE {day(event.tge_date)}</span>
              <span className="ml-auto text-xs text-slate-600">
                seen {ago(new Date(receivedAt).toISOString())}
              </span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
