import { changeLabel, confidenceClass, percent } from "../lib/format";
import type { Change, EventStatus } from "../lib/types";

export function Confidence({ value }: { value: number }) {
  return (
    <span className={`rounded px-2 py-0.5 text-xs font-semibold ${confidenceClass(value)}`}>
      {percent(value)}
    </span>
  );
}

const STATUS_CLASSES: Record<EventStatus, string> = {
  announced: "bg-sky-100 text-sky-900",
  scheduled: "bg-indigo-100 text-indigo-900",
  live: "bg-emerald-100 text-emerald-900",
  postponed: "bg-orange-100 text-orange-900",
};

export function Status({ value }: { value: EventStatus }) {
  return <span className={`rounded px-2 py-0.5 text-xs ${STATUS_CLASSES[value] ?? ""}`}>{value}</span>;
}

export function ChangeBadge({ change }: { change: Change }) {
  return (
    <span className="rounded bg-violet-100 px-2 py-0.5 text-xs font-semibold text-violet-900">
      {changeLabel(change)}
    </span>
  );
}
