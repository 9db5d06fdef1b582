import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useRef, useState, type FormEvent, type ReactNode } from "react";
import { Link, useParams } from "react-router-dom";
import { Confidence, Status } from "../components/Badges";
import { Button } from "../components/Controls";
import { ErrorState, Loading } from "../components/States";
import { api, errorMessage } from "../lib/api";
import { useAuth } from "../lib/auth";
import { supportingMention, timeline, type Field } from "../lib/eventDetail";
import { dateTime, day, percent, ticker } from "../lib/format";
import type { Mention, TGEEventDetail } from "../lib/types";

function Evidence({ mention }: { mention: Mention | null }) {
  if (!mention) return <span className="text-slate-600">no supporting mention</span>;
  return (
    <span className="text-slate-700">
      from{" "}
      {mention.url ? (
        <a href={mention.url} rel="noreferrer noopener" target="_blank" className="text-blue-800 underline">
          {mention.title || mention.source}
        </a>
      ) : (
        mention.title || mention.source
      )}{" "}
      ({mention.source}, {percent(mention.confidence)})
    </span>
  );
}

function Row({
  label,
  value,
  field,
  event,
}: {
  label: string;
  value: ReactNode;
  field?: Field;
  event: TGEEventDetail;
}) {
  return (
    <div className="grid grid-cols-1 gap-1 border-t border-slate-200 py-2 md:grid-cols-[10rem_1fr_2fr]">
      <dt className="font-semibold">{label}</dt>
      <dd>{value}</dd>
      <dd className="text-sm">{field && <Evidence mention={supportingMention(event, field)} />}</dd>
    </div>
  );
}

function ReviewActions({ event }: { event: TGEEventDetail }) {
  const client = useQueryClient();
  const dialog = useRef<HTMLDialogElement>(null);
  const [into, setInto] = useState("");
  const [message, setMessage] = useState("");
  const done = (text: string) => {
    setMessage(text);
    void client.invalidateQueries({ queryKey: ["event", event.id] });
    void client.invalidateQueries({ queryKey: ["events"] });
  };
  const review = useMutation({
    mutationFn: (decision: "confirm" | "reject") =>
      decision === "confirm" ? api.confirm(event.id) : api.reject(event.id),
    onSuccess: (result) => done(`Event ${result.review}.`),
  });
  const merge = useMutation({
    mutationFn: (target: number) => api.merge(event.id, target),
    onSuccess: (result) => {
      dialog.current?.close();
      done(`Merged into event ${result.id} (${result.project}).`);
    },
  });
  const error = review.error ?? merge.error;

  function submitMerge(e: FormEvent) {
    e.preventDefault();
    merge.mutate(Number(into));
  }

  return (
    <div className="mt-4 flex flex-wrap items-center gap-2" aria-label="Review">
      <Button look="confirm" onClick={() => review.mutate("confirm")} disabled={review.isPending}>
        Confirm
      </Button>
      <Button look="danger" onClick={() => review.mutate("reject")} disabled={review.isPending}>
        Reject
      </Button>
      <Button onClick={() => dialog.current?.showModal()}>Merge…</Button>
      <p role="status" className="text-sm text-slate-700">
        {message}
      </p>
      {error && (
        <p role="alert" className="text-sm text-red-800">
          {errorMessage(error)}
        </p>
      )}
      <dialog
        ref={dialog}
        aria-labelledby="merge-title"
        className="rounded-lg p-6 shadow-xl backdrop:bg-slate-900/40"
      >
        <form onSubmit={submitMerge} className="space-y-3">
          <h2 id="merge-title" className="text-lg font-semibold">
            Merge {event.project} into another event
          </h2>
          <p className="text-sm text-slate-700">Its mentions move to that event; later mentions follow.</p>
          <label className="block text-sm">
            Id of the event that absorbs this one
            <input
              type="number"
              min={1}
              required
              value={into}
              onChange={(e) => setInto(e.target.value)}
              className="mt-1 w-full rounded border border-slate-400 px-2 py-1"
            />
          </label>
          <div className="flex gap-2">
            <Button type="submit" look="primary">
              Merge
            </Button>
            <Button onClick={() => dialog.current?.close()}>Cancel</Button>
          </div>
        </form>
      </dialog>
    </div>
  );
}

export default function EventPage() {
  const id = Number(useParams().id);
  const isStaff = useAuth((s) => s.user?.is_staff ?? false);
  const query = useQuery({ queryKey: ["event", id], queryFn: () => api.event(id), enabled: id > 0 });

  if (query.isPending) return <Loading what="the event" />;
  if (query.isError) return <ErrorState error={query.error} retry={() => void query.refetch()} />;
  const event = query.data;
  const sources = [...new Map(event.mentions.map((m) => [m.source, m])).values()];

  return (
    <article aria-labelledby="event-title">
      <p className="text-sm">
        <Link to="/events" className="text-blue-800 underline">
          ← Events
        </Link>
      </p>
      <h1 id="event-title" className="mt-2 break-words text-2xl font-bold">
        {event.project} <span className="text-slate-600">{ticker(event.ticker)}</span>
      </h1>
      <div className="mt-2 flex flex-wrap items-center gap-2 text-sm">
        <Status value={event.status} />
        <Confidence value={event.confidence} />
        <span>review: {event.review}</span>
        {event.is_candidate && <span className="rounded bg-slate-200 px-2 py-0.5">candidate</span>}
        {event.merged_into && (
          <Link to={`/events/${event.merged_into}`} className="text-blue-800 underline">
            merged into #{event.merged_into}
          </Link>
        )}
      </div>
      {isStaff && <ReviewActions event={event} />}

      <h2 className="mt-6 text-lg font-semibold">Fields and their evidence</h2>
      <dl className="mt-2 rounded border border-slate-200 bg-white px-4">
        <Row label="Project" value={event.project} field="project" event={event} />
        <Row label="Ticker" value={ticker(event.ticker) || "—"} event={event} />
        <Row label="TGE date" value={day(event.tge_date)} field="tge_date" event={event} />
        <Row label="Chain" value={event.chain || "—"} field="chain" event={event} />
        <Row label="Venues" value={event.venues.join(", ") || "—"} field="venues" event={event} />
        <Row label="First seen" value={dateTime(event.first_seen_at)} event={event} />
        <Row label="Last seen" value={dateTime(event.last_seen_at)} event={event} />
        <Row
          label="Mentions"
          value={`${event.mention_count} from ${event.source_count} source${event.source_count === 1 ? "" : "s"}`}
          event={event}
        />
      </dl>

      <h2 className="mt-6 text-lg font-semibold">Timeline</h2>
      <ol className="mt-2 space-y-2 border-l-2 border-slate-300 pl-4">
        {timeline(event).map((entry, i) => (
          <li key={i} className="text-sm">
            <span className="text-slate-600">{dateTime(entry.at)}</span>{" "}
            {entry.kind === "mention" ? (
              <>
                mention ({entry.mention.kind}, {percent(entry.mention.confidence)}) from{" "}
                {entry.mention.source}:{" "}
                <q className="text-slate-800">{entry.mention.snippet || entry.mention.title}</q>
              </>
            ) : entry.kind === "date_set" ? (
              <strong>TGE date set to {day(entry.to)}</strong>
            ) : (
              <strong>
                TGE date moved from {day(entry.from)} to {day(entry.to)}
              </strong>
            )}
          </li>
        ))}
      </ol>

      <h2 className="mt-6 text-lg font-semibold">Sources and links</h2>
      <ul className="mt-2 list-disc pl-6 text-sm">
        {sources.map((m) => (
          <li key={m.source}>
            {m.source}:{" "}
            {m.url ? (
              <a
                href={m.url}
                rel="noreferrer noopener"
                target="_blank"
                className="break-all text-blue-800 underline"
              >
                {m.url}
              </a>
            ) : (
              "no link"
            )}
          </li>
        ))}
      </ul>
    </article>
  );
}
