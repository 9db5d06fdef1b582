/** How values read on every page: one place, so a test can pin them. */
import { format, formatDistanceToNowStrict, parseISO } from "date-fns";
import type { Change, ChangeKind } from "./types";

export function percent(value: number): string {
  return `${Math.round(value * 100)}%`;
}

export function day(iso: string | null | undefined): string {
  if (!iso) return "date not announced";
  return format(parseISO(iso), "d MMM yyyy");
}

export function dateTime(iso: string | null | undefined): string {
  if (!iso) return "never";
  return format(parseISO(iso), "d MMM yyyy HH:mm");
}

export function ago(iso: string | null | undefined, now: Date = new Date()): string {
  if (!iso) return "never";
  const when = parseISO(iso);
  if (Math.abs(now.getTime() - when.getTime()) < 5000) return "just now";
  return formatDistanceToNowStrict(when, { addSuffix: true });
}

export function seconds(value: number | null | undefined): string {
  if (value === null || value === undefined) return "—";
  if (value < 120) return `${Math.round(value)} s`;
  if (value < 7200) return `${Math.round(value / 60)} min`;
  return `${(value / 3600).toFixed(1)} h`;
}

export function ticker(value: string | null | undefined): string {
  return value ? `$${value}` : "";
}

const CHANGE_LABELS: Record<ChangeKind, string> = {
  new: "new",
  date_set: "date set",
  date_changed: "date moved",
  postponed: "postponed",
  live: "live",
  updated: "updated",
  confirmed: "confirmed",
  rejected: "rejected",
};

function oldDate(change: Change): string | null {
  const old = change.old as { tge_date?: string } | string | null | undefined;
  const value = typeof old === "string" ? old : old?.tge_date;
  return typeof value === "string" && /^\d{4}-\d{2}-\d{2}$/.test(value) ? value : null;
}

/** What a change says in a badge: "date moved (was 4 Dec 2026)" where the old date is known. */
export function changeLabel(change: Change): string {
  const label = CHANGE_LABELS[change.kind] ?? change.kind;
  const was = change.kind === "date_changed" || change.kind === "postponed" ? oldDate(change) : null;
  return was ? `${label} (was ${day(was)})` : label;
}

/** Tailwind classes of a confidence badge: the colour says how sure, the text says the number. */
export function confidenceClass(value: number): string {
  if (value >= 0.8) return "bg-emerald-100 text-emerald-900";
  if (value >= 0.5) return "bg-amber-100 text-amber-900";
  return "bg-slate-200 text-slate-800";
}
