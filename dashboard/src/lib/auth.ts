/**
 * Who is logged in. The access token lives in this store only (memory); the refresh token is an HttpOnly,
 * SameSite=Strict cookie that the server sets and reads (`/app/auth/*`, tgesweeper/dashboard.py), so no script
 * can read it and nothing is ever written to localStorage. The access token is renewed a minute before it expires.
 */
import axios from "axios";
import { create } from "zustand";
import type { User } from "./types";

export const REFRESH_MARGIN_MS = 60_000;
const RETRY_MS = 5_000;

interface Session {
  access: string;
  access_expires_at: string;
  user: User;
}

interface AuthState {
  access: string | null;
  expiresAt: number | null;
  user: User | null;
  /** "unknown" until the first refresh attempt tells whether a session cookie exists. */
  status: "unknown" | "anonymous" | "authenticated";
  login: (username: string, password: string) => Promise<void>;
  refresh: () => Promise<string | null>;
  logout: () => Promise<void>;
}

export function csrfToken(): string {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

const authHttp = axios.create({ baseURL: "/app/auth/", withCredentials: true, timeout: 15_000 });
authHttp.interceptors.request.use((config) => {
  config.headers.set("X-CSRFToken", csrfToken());
  return config;
});

let refreshTimer: ReturnType<typeof setTimeout> | undefined;
let refreshing: Promise<string | null> | null = null;

/** Milliseconds until the token should be renewed (never negative). */
export function refreshDelay(expiresAt: number, now: number = Date.now()): number {
  return Math.max(0, expiresAt - now - REFRESH_MARGIN_MS);
}

export const useAuth = create<AuthState>((set, get) => {
  function start(session: Session) {
    const expiresAt = Date.parse(session.access_expires_at);
    set({ access: session.access, expiresAt, user: session.user, status: "authenticated" });
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(() => void get().refresh(), refreshDelay(expiresAt));
  }

  function end() {
    clearTimeout(refreshTimer);
    set({ access: null, expiresAt: null, user: null, status: "anonymous" });
  }

  return {
    access: null,
    expiresAt: null,
    user: null,
    status: "unknown",
    async login(username, password) {
      const { data } = await authHttp.post<Session>("login", { username, password });
      start(data);
    },
    refresh() {
      refreshing ??= authHttp
        .post<Session>("refresh")
        .then(({ data }) => {
          start(data);
          return data.access;
        })
        .catch((error: unknown) => {
          const { access, expiresAt } = get();
          if (axios.isAxiosError(error) && !error.response && access && expiresAt && expiresAt > Date.now()) {
            // The server is unreachable, not refusing: keep the session while the token lasts and try again.
            clearTimeout(refreshTimer);
            refreshTimer = setTimeout(() => void get().refresh(), RETRY_MS);
            return access;
          }
          end();
          return null;
        })
        .finally(() => {
          refreshing = null;
        });
      return refreshing;
    },
    async logout() {
      try {
        await authHttp.post("logout");
      } finally {
        end();
      }
    },
  };
});
