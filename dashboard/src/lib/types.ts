/** Shapes of the REST API (/api/v1/, docs/api.md) and of the live channel's messages. */

export type EventStatus = "announced" | "scheduled" | "live" | "postponed";
export type EventReview = "unreviewed" | "confirmed" | "rejected" | "merged";

export interface TGEEvent {
  id: number;
  project: string;
  ticker: string;
  tge_date: string | null;
  /** The date before its last move (what a postponed event was set for); null if it never moved. */
  previous_tge_date: string | null;
  chain: string;
  venues: string[];
  status: EventStatus;
  confidence: number;
  is_candidate: boolean;
  review: EventReview;
  published: boolean;
  merged_into: number | null;
  mention_count: number;
  source_count: number;
  first_seen_at: string;
  last_seen_at: string;
}

export interface Mention {
  id: number;
  source: string;
  url: string;
  title: string;
  snippet: string;
  published_at: string;
  kind: string;
  confidence: number;
  tge_date: string | null;
  chain: string;
  venues: string[];
  created_at: string;
}

export interface TGEEventDetail extends TGEEvent {
  mentions: Mention[];
}

export interface Page<T> {
  count: number;
  count_exact: boolean;
  next: string | null;
  previous: string | null;
  results: T[];
}

export interface Source {
  id: number;
  name: string;
  kind: string;
  url: string;
  query: string;
  interval_seconds: number;
  enabled: boolean;
  last_fetched_at: string | null;
  last_success_at: string | null;
  last_failure_at: string | null;
  failure_count: number;
  last_error: string;
  circuit_state: "closed" | "open" | "half_open";
  next_fetch_not_before: string | null;
  adaptive_interval_seconds: number | null;
}

export type ChangeKind =
  "new" | "date_set" | "date_changed" | "postponed" | "live" | "updated" | "confirmed" | "rejected";

/** One change the notify stage reports with an event (the EventChange outbox): old and new values where it has them. */
export interface Change {
  id: number;
  kind: ChangeKind;
  old?: unknown;
  new?: unknown;
}

/** What the live channel sends: the event as `api/live_stream.py` publishes it, and its id in the event log. */
export interface LiveEvent {
  id: number;
  project: string;
  ticker: string | null;
  tge_date: string | null;
  status: EventStatus;
  chain: string | null;
  confidence: number;
  is_candidate: boolean;
  mention_count: number;
  source_count: number;
  first_seen_at: string;
  last_seen_at: string;
  changes?: Change[];
}

export interface LiveMessage {
  log_id: string | null;
  event: LiveEvent;
}

export interface User {
  username: string;
  is_staff: boolean;
}

export interface SystemMetrics {
  generated_at: string;
  documents: Record<string, number>;
  events: { published: number; candidates: number; found_last_60_minutes: number };
  errors: {
    item_failures_last_60_minutes: number;
    item_error_rate_last_60_minutes: number;
    sources_failing: number;
    source_error_rate: number;
  };
  queues: Record<string, number | null>;
  workers: { count: number | null; names: string[]; note?: string };
  series?: {
    events_per_day: { day: string; status: string; count: number }[];
    documents_per_hour: { hour: string; count: number }[];
    errors_per_source: { source: string; item_failures: number; fetch_failures: number }[];
    delay_per_hour: { hour: string; median_seconds: number; count: number }[];
  };
}
