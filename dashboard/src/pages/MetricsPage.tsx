import { useQuery } from "@tanstack/react-query";
import type { ReactNode } from "react";
import {
  Bar,
  BarChart,
  CartesianGrid,
  Legend,
  Line,
  LineChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";
import { Empty, ErrorState, Loading } from "../components/States";
import { api } from "../lib/api";
import { dateTime, percent } from "../lib/format";
import { eventsPerDay, hourLabel, STATUS_COLOURS } from "../lib/metrics";

function Chart({ title, children, empty }: { title: string; children: ReactNode; empty: boolean }) {
  return (
    <figure className="rounded border border-slate-200 bg-white p-4">
      <figcaption className="mb-2 font-semibold">{title}</figcaption>
      {empty ? (
        <p className="py-10 text-center text-sm text-slate-600">No data yet.</p>
      ) : (
        <div className="h-64">
          <ResponsiveContainer width="100%" height="100%">
            {children as React.ReactElement}
          </ResponsiveContainer>
        </div>
      )}
    </figure>
  );
}

function Figure({ label, value }: { label: string; value: ReactNode }) {
  return (
    <div className="rounded border border-slate-200 bg-white p-3">
      <p className="text-xs text-slate-600">{label}</p>
      <p className="text-xl font-semibold">{value}</p>
    </div>
  );
}

export default function MetricsPage() {
  const query = useQuery({ queryKey: ["metrics"], queryFn: api.metrics, refetchInterval: 15_000 });
  if (query.isPending) return <Loading what="metrics" />;
  if (query.isError) return <ErrorState error={query.error} retry={() => void query.refetch()} />;
  const m = query.data;
  const series = m.series;
  if (!series) return <Empty>This server reports no metric series.</Empty>;
  const perDay = eventsPerDay(series.events_per_day);
  const queues = Object.entries(m.queues).map(([queue, depth]) => ({ queue, depth: depth ?? 0 }));

  return (
    <section aria-labelledby="metrics-title">
      <h1 id="metrics-title" className="text-2xl font-bold">
        Metrics
      </h1>
      <p className="text-sm text-slate-600">As of {dateTime(m.generated_at)} (refreshed every 15 s).</p>
      <div className="mt-3 grid grid-cols-2 gap-3 md:grid-cols-5">
        <Figure label="Published events" value={m.events.published} />
        <Figure label="Candidates to review" value={m.events.candidates} />
        <Figure label="Documents, last hour" value={m.documents.last_60_minutes ?? 0} />
        <Figure
          label="Item error rate, last hour"
          value={percent(m.errors.item_error_rate_last_60_minutes)}
        />
        <Figure label="Workers online" value={m.workers.count ?? "n/a"} />
      </div>
      <div className="mt-4 grid grid-cols-1 gap-4 lg:grid-cols-2">
        <Chart title="Events first seen per day, by status (14 days)" empty={perDay.rows.length === 0}>
          <BarChart data={perDay.rows}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis dataKey="day" />
            <YAxis allowDecimals={false} />
            <Tooltip />
            <Legend />
            {perDay.statuses.map((status) => (
              <Bar
                key={status}
                isAnimationActive={false}
                dataKey={status}
                stackId="events"
                fill={STATUS_COLOURS[status] ?? "#64748b"}
              />
            ))}
          </BarChart>
        </Chart>
        <Chart title="Documents fetched per hour (24 h)" empty={series.documents_per_hour.length === 0}>
          <LineChart data={series.documents_per_hour.map((p) => ({ ...p, hour: hourLabel(p.hour) }))}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis dataKey="hour" />
            <YAxis allowDecimals={false} />
            <Tooltip />
            <Line
              isAnimationActive={false}
              type="monotone"
              dataKey="count"
              name="documents"
              stroke="#1d4ed8"
              dot={false}
            />
          </LineChart>
        </Chart>
        <Chart title="Failures per source" empty={series.errors_per_source.length === 0}>
          <BarChart data={series.errors_per_source} layout="vertical">
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis type="number" allowDecimals={false} />
            <YAxis type="category" dataKey="source" width={140} />
            <Tooltip />
            <Legend />
            <Bar
              isAnimationActive={false}
              dataKey="fetch_failures"
              name="failed fetches in a row"
              fill="#b91c1c"
            />
            <Bar
              isAnimationActive={false}
              dataKey="item_failures"
              name="failed items (24 h)"
              fill="#f59e0b"
            />
          </BarChart>
        </Chart>
        <Chart title="Queue depths (messages waiting)" empty={queues.length === 0}>
          <BarChart data={queues}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis dataKey="queue" />
            <YAxis allowDecimals={false} />
            <Tooltip />
            <Bar isAnimationActive={false} dataKey="depth" fill="#0f766e" />
          </BarChart>
        </Chart>
        <Chart
          title="Publication → persisted delay, median per hour (24 h)"
          empty={series.delay_per_hour.length === 0}
        >
          <LineChart data={series.delay_per_hour.map((p) => ({ ...p, hour: hourLabel(p.hour) }))}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis dataKey="hour" />
            <YAxis unit=" s" />
            <Tooltip />
            <Line
              type="monotone"
              dataKey="median_seconds"
              name="median delay (s)"
              stroke="#7c3aed"
              dot={false}
            />
          </LineChart>
        </Chart>
      </div>
    </section>
  );
}
