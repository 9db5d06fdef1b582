/** The Calendar page's days: a week or a whole month (in whole weeks, Monday first), events placed by TGE date. */
import {
  addMonths,
  addWeeks,
  eachDayOfInterval,
  endOfMonth,
  endOfWeek,
  format,
  parseISO,
  startOfMonth,
  startOfWeek,
} from "date-fns";

export type Span = "week" | "month";

export interface Range {
  from: Date;
  to: Date;
  days: Date[];
}

const WEEK = { weekStartsOn: 1 } as const;

export function rangeFor(span: Span, anchor: Date): Range {
  const from = span === "week" ? startOfWeek(anchor, WEEK) : startOfWeek(startOfMonth(anchor), WEEK);
  const to = span === "week" ? endOfWeek(anchor, WEEK) : endOfWeek(endOfMonth(anchor), WEEK);
  return { from, to, days: eachDayOfInterval({ start: from, end: to }) };
}

export function shift(span: Span, anchor: Date, steps: number): Date {
  return span === "week" ? addWeeks(anchor, steps) : addMonths(anchor, steps);
}

export const isoDay = (date: Date) => format(date, "yyyy-MM-dd");

export function byDay<T extends { tge_date: string | null }>(events: T[]): Map<string, T[]> {
  const days = new Map<string, T[]>();
  for (const event of events) {
    if (!event.tge_date) continue;
    days.set(event.tge_date, [...(days.get(event.tge_date) ?? []), event]);
  }
  return days;
}

export function parseAnchor(raw: string | null, today: Date = new Date()): Date {
  if (raw && /^\d{4}-\d{2}-\d{2}$/.test(raw)) {
    const parsed = parseISO(raw);
    if (!Number.isNaN(parsed.getTime())) return parsed;
  }
  return today;
}
