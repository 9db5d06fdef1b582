/**
 * The Live page's state: the newest events first (one row per event, moved to the top when it changes), the
 * connection state, the client's filter, and the id of the last event-log entry seen, which a reconnect sends
 * so the server replays what was missed.
 */
import { create } from "zustand";
import type { LiveMessage } from "./types";

export const MAX_ROWS = 200;

export type Connection = "connecting" | "live" | "offline";

export interface LiveFilter {
  confidenceMin: number;
  tickers: string[];
}

export interface LiveRow extends LiveMessage {
  receivedAt: number;
}

interface LiveState {
  rows: LiveRow[];
  lastId: string | null;
  connection: Connection;
  filter: LiveFilter;
  /** The server could not replay everything since the last id (its log had trimmed some). */
  missed: boolean;
  receive: (message: LiveMessage, now?: number) => void;
  setConnection: (connection: Connection) => void;
  setMissed: (missed: boolean) => void;
  /** The log id to replay from when nothing has been received yet. */
  startAt: (logId: string) => void;
  setFilter: (filter: LiveFilter) => void;
  clear: () => void;
}

/** Orders event-log ids: Redis stream ids ("1700000000000-3") or database row ids ("42"). */
export function compareLogIds(a: string, b: string): number {
  const [aMs, aSeq = "0"] = a.split("-");
  const [bMs, bSeq = "0"] = b.split("-");
  const major = BigInt(aMs) - BigInt(bMs);
  if (major !== 0n) return major > 0n ? 1 : -1;
  const minor = BigInt(aSeq) - BigInt(bSeq);
  return minor === 0n ? 0 : minor > 0n ? 1 : -1;
}

export function parseTickers(text: string): string[] {
  return [
    ...new Set(
      text
        .split(/[\s,]+/)
        .map((t) => t.replace(/^\$/, "").toUpperCase())
        .filter(Boolean),
    ),
  ];
}

export const useLive = create<LiveState>((set) => ({
  rows: [],
  lastId: null,
  connection: "connecting",
  filter: { confidenceMin: 0, tickers: [] },
  missed: false,
  receive(message, now = Date.now()) {
    set((state) => {
      if (message.log_id && state.lastId && compareLogIds(message.log_id, state.lastId) <= 0) {
        return state; // a replayed message already shown
      }
      const rows = [
        { ...message, receivedAt: now },
        ...state.rows.filter((row) => row.event.id !== message.event.id),
      ].slice(0, MAX_ROWS);
      return { rows, lastId: message.log_id ?? state.lastId };
    });
  },
  setConnection: (connection) => set({ connection }),
  setMissed: (missed) => set({ missed }),
  startAt: (logId) => set((state) => (state.lastId ? state : { lastId: logId })),
  setFilter: (filter) => set({ filter, rows: [] }),
  clear: () => set({ rows: [], lastId: null }),
}));
