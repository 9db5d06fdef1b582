/** The REST API client: the in-memory access token on every call, one refresh and retry on a 401. */
import axios, { AxiosError, type InternalAxiosRequestConfig } from "axios";
import { useAuth } from "./auth";
import type { Page, Source, SystemMetrics, TGEEvent, TGEEventDetail } from "./types";

export const http = axios.create({ baseURL: "/api/v1/", timeout: 20_000 });

http.interceptors.request.use((config) => {
  const token = useAuth.getState().access;
  if (token) config.headers.set("Authorization", `Bearer ${token}`);
  return config;
});

http.interceptors.response.use(undefined, async (error: AxiosError) => {
  const config = error.config as (InternalAxiosRequestConfig & { retried?: boolean }) | undefined;
  if (error.response?.status === 401 && config && !config.retried) {
    config.retried = true;
    const token = await useAuth.getState().refresh();
    if (token) return http.request(config);
  }
  throw error;
});

/** One sentence a person can act on, for any failure of a call. */
export function errorMessage(error: unknown): string {
  if (axios.isAxiosError(error)) {
    if (!error.response) return "The server cannot be reached. Is the sweeper running?";
    const status = error.response.status;
    const data = error.response.data as { error?: string } | undefined;
    if (status === 403) return "You are not allowed to do this (staff only).";
    if (status === 401) return "Your session has ended; log in again.";
    if (status >= 500) return `The server failed (HTTP ${status}). Try again in a moment.`;
    if (data?.error) return data.error;
    return `The request failed (HTTP ${status}).`;
  }
  return error instanceof Error ? error.message : String(error);
}

export type Query = Record<string, string>;

export const api = {
  events: (params: Query) => http.get<Page<TGEEvent>>("tge-events", { params }).then((r) => r.data),
  event: (id: number) => http.get<TGEEventDetail>(`tge-events/${id}`).then((r) => r.data),
  confirm: (id: number) => http.post<TGEEvent>(`tge-events/${id}/confirm`).then((r) => r.data),
  reject: (id: number) => http.post<TGEEvent>(`tge-events/${id}/reject`).then((r) => r.data),
  merge: (id: number, into: number) =>
    http.post<TGEEvent>(`tge-events/${id}/merge`, { into }).then((r) => r.data),
  sources: () => http.get<Page<Source>>("sources", { params: { limit: 500 } }).then((r) => r.data),
  sweep: (id: number) => http.post(`sources/${id}/sweep`).then((r) => r.data),
  setEnabled: (id: number, enabled: boolean) =>
    http.patch<Source>(`sources/${id}`, { enabled }).then((r) => r.data),
  metrics: () => http.get<SystemMetrics>("system/metrics").then((r) => r.data),
};
