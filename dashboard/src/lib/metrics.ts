/** Reshapes `/api/v1/system/metrics` series for Recharts. */
import { format, parseISO } from "date-fns";

export const STATUS_COLOURS: Record<string, string> = {
  announced: "#0369a1",
  scheduled: "#4338ca",
  live: "#047857",
  postponed: "#c2410c",
};

/** One row per day with a column per status (a stacked bar each), and the statuses that occur. */
export function eventsPerDay(points: { day: string; status: string; count: number }[]) {
  const rows = new Map<string, Record<string, string | number>>();
  const statuses = new Set<string>();
  for (const { day, status, count } of points) {
    statuses.add(status);
    const row = rows.get(day) ?? { day: format(parseISO(day), "d MMM") };
    row[status] = ((row[status] as number | undefined) ?? 0) + count;
    rows.set(day, row);
  }
  const ordered = [...rows.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, row]) => row);
  return { rows: ordered, statuses: [...statuses].sort() };
}

export function hourLabel(iso: string): string {
  return format(parseISO(iso), "HH:mm");
}
