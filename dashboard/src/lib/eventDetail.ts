/** What the Event page derives from an event's mentions: the mention behind each field, and the timeline. */
import type { Mention, TGEEventDetail } from "./types";

export type Field = "tge_date" | "chain" | "venues" | "project";

function newestFirst(mentions: Mention[]): Mention[] {
  return [...mentions].sort((a, b) => b.created_at.localeCompare(a.created_at) || b.id - a.id);
}

/** The newest mention that says what the event says for ``field`` (the best one, for the project itself). */
export function supportingMention(event: TGEEventDetail, field: Field): Mention | null {
  const mentions = newestFirst(event.mentions);
  switch (field) {
    case "tge_date":
      return event.tge_date ? (mentions.find((m) => m.tge_date === event.tge_date) ?? null) : null;
    case "chain":
      return event.chain
        ? (mentions.find((m) => m.chain.toLowerCase() === event.chain.toLowerCase()) ?? null)
        : null;
    case "venues":
      return mentions.find((m) => m.venues.some((v) => event.venues.includes(v))) ?? null;
    case "project":
      return [...mentions].sort((a, b) => b.confidence - a.confidence)[0] ?? null;
  }
}

export interface TimelineEntry {
  at: string;
  kind: "mention" | "date_set" | "date_changed";
  mention: Mention;
  from?: string | null;
  to?: string | null;
}

/** Mentions oldest first, with a date entry wherever a mention set or moved the TGE date. */
export function timeline(event: TGEEventDetail): TimelineEntry[] {
  const entries: TimelineEntry[] = [];
  let date: string | null = null;
  for (const mention of newestFirst(event.mentions).reverse()) {
    if (mention.tge_date && mention.tge_date !== date) {
      entries.push({
        at: mention.created_at,
        kind: date ? "date_changed" : "date_set",
        mention,
        from: date,
        to: mention.tge_date,
      });
      date = mention.tge_date;
    }
    entries.push({ at: mention.created_at, kind: "mention", mention });
  }
  return entries;
}
