import { lazy, useEffect } from "react";
import { BrowserRouter, Route, Routes } from "react-router-dom";
import { Layout } from "./components/Layout";
import { Loading } from "./components/States";
import { useAuth } from "./lib/auth";
import { LivePage } from "./pages/LivePage";
import { LoginPage } from "./pages/LoginPage";

// Pages other than Live load on first visit, so the initial bundle stays small (Recharts only with Metrics).
const EventsPage = lazy(() => import("./pages/EventsPage"));
const EventPage = lazy(() => import("./pages/EventPage"));
const CalendarPage = lazy(() => import("./pages/CalendarPage"));
const SourcesPage = lazy(() => import("./pages/SourcesPage"));
const MetricsPage = lazy(() => import("./pages/MetricsPage"));

function NotFound() {
  return <p className="p-6">No such page.</p>;
}

export function App() {
  const status = useAuth((s) => s.status);
  const refresh = useAuth((s) => s.refresh);
  useEffect(() => {
    void refresh();
  }, [refresh]);

  if (status === "unknown") return <Loading what="your session" />;
  if (status === "anonymous") return <LoginPage />;
  return (
    <BrowserRouter basename="/app">
      <Routes>
        <Route element={<Layout />}>
          <Route index element={<LivePage />} />
          <Route path="events" element={<EventsPage />} />
          <Route path="events/:id" element={<EventPage />} />
          <Route path="calendar" element={<CalendarPage />} />
          <Route path="sources" element={<SourcesPage />} />
          <Route path="metrics" element={<MetricsPage />} />
          <Route path="*" element={<NotFound />} />
        </Route>
      </Routes>
    </BrowserRouter>
  );
}
