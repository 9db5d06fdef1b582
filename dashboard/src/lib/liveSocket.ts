/**
 * The socket.io connection to the live channel (`/socket.io/`, api/live_socket.py). It authenticates with the
 * in-memory access token on every (re)connect, subscribes with the page's filter and the last event-log id seen,
 * and feeds what arrives into the live store.
 */
import { io, type Socket } from "socket.io-client";
import { useAuth } from "./auth";
import { useLive, type LiveFilter } from "./liveStore";
import type { LiveMessage } from "./types";

let socket: Socket | null = null;

interface SubscribeAck {
  ok: boolean;
  lost?: boolean;
  /** Where the event log is, for a page that has seen nothing yet: its reconnects replay from there. */
  last_id?: string;
}

function subscribe(active: Socket, filter: LiveFilter) {
  const payload = {
    confidence_min: filter.confidenceMin,
    tickers: filter.tickers,
    last_id: useLive.getState().lastId,
  };
  active.emit("subscribe", payload, (ack: SubscribeAck) => {
    if (ack?.lost) useLive.getState().setMissed(true);
    if (ack?.last_id) useLive.getState().startAt(ack.last_id);
  });
}

export function connectLive(): () => void {
  const live = useLive.getState();
  live.setConnection("connecting");
  const active = io({
    path: "/socket.io/",
    transports: ["websocket"],
    reconnectionDelay: 500,
    reconnectionDelayMax: 3000,
    auth: (cb) => cb({ token: useAuth.getState().access ?? "" }),
  });
  socket = active;
  active.on("connect", () => {
    useLive.getState().setConnection("live");
    subscribe(active, useLive.getState().filter);
  });
  active.on("disconnect", () => useLive.getState().setConnection("offline"));
  active.on("connect_error", async (error: Error) => {
    useLive.getState().setConnection("offline");
    if (error.message === "unauthorized") await useAuth.getState().refresh();
  });
  active.on("tge_event", (message: LiveMessage) => useLive.getState().receive(message));
  return () => {
    active.disconnect();
    if (socket === active) socket = null;
  };
}

export function changeLiveFilter(filter: LiveFilter) {
  useLive.getState().setFilter(filter);
  if (socket?.connected) subscribe(socket, filter);
}
