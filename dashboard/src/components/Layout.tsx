import { Suspense, useEffect } from "react";
import { NavLink, Outlet, useLocation } from "react-router-dom";
import { PageErrorBoundary } from "./PageErrorBoundary";
import { Loading } from "./States";
import { useAuth } from "../lib/auth";
import { connectLive } from "../lib/liveSocket";
import { useLive, type Connection } from "../lib/liveStore";

const LINKS = [
  ["/", "Live"],
  ["/events", "Events"],
  ["/calendar", "Calendar"],
  ["/sources", "Sources"],
  ["/metrics", "Metrics"],
] as const;

const CONNECTION_TEXT: Record<Connection, [string, string]> = {
  live: ["bg-emerald-500", "Live"],
  connecting: ["bg-amber-400", "Connecting…"],
  offline: ["bg-red-500", "Offline — reconnecting"],
};

export function ConnectionIndicator() {
  const connection = useLive((s) => s.connection);
  const [colour, text] = CONNECTION_TEXT[connection];
  return (
    <span className="flex items-center gap-2 text-sm" data-testid="connection" data-state={connection}>
      <span aria-hidden="true" className={`inline-block h-2.5 w-2.5 rounded-full ${colour}`} />
      {text}
    </span>
  );
}

export function Layout() {
  const user = useAuth((s) => s.user);
  const logout = useAuth((s) => s.logout);
  const location = useLocation();
  useEffect(() => connectLive(), []);
  return (
    <div className="min-h-screen">
      <header className="border-b border-slate-200 bg-white">
        <div className="mx-auto flex max-w-7xl flex-wrap items-center gap-4 px-4 py-3">
          <span className="font-bold text-slate-900">TGE News Sweeper</span>
          <nav aria-label="Main" className="flex flex-wrap gap-1">
            {LINKS.map(([to, label]) => (
              <NavLink
                key={to}
                to={to}
                end={to === "/"}
                className={({ isActive }) =>
                  `rounded px-3 py-1.5 text-sm ${isActive ? "bg-slate-900 text-white" : "text-slate-700 hover:bg-slate-100"}`
                }
              >
                {label}
              </NavLink>
            ))}
          </nav>
          <div className="ml-auto flex items-center gap-4">
            <ConnectionIndicator />
            <span className="text-sm text-slate-700">
              {user?.username}
              {user?.is_staff ? " (staff)" : ""}
            </span>
            <button
              type="button"
              onClick={() => void logout()}
              className="rounded border border-slate-300 px-3 py-1 text-sm hover:bg-slate-100"
            >
              Log out
            </button>
          </div>
        </div>
      </header>
      <main className="mx-auto max-w-7xl px-4 py-4">
        <PageErrorBoundary resetKey={location.pathname}>
          <Suspense fallback={<Loading what="the page" />}>
            <Outlet />
          </Suspense>
        </PageErrorBoundary>
      </main>
    </div>
  );
}
