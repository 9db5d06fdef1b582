import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Button, DataTable, headings } from "../components/Controls";
import { Empty, ErrorState, Loading } from "../components/States";
import { api, errorMessage } from "../lib/api";
import { useAuth } from "../lib/auth";
import { ago, seconds } from "../lib/format";
import type { Source } from "../lib/types";

const CIRCUIT_CLASSES: Record<Source["circuit_state"], string> = {
  closed: "bg-emerald-100 text-emerald-900",
  half_open: "bg-amber-100 text-amber-900",
  open: "bg-red-100 text-red-900",
};

function StaffActions({ source, report }: { source: Source; report: (text: string) => void }) {
  const client = useQueryClient();
  const sweep = useMutation({
    mutationFn: () => api.sweep(source.id),
    onSuccess: () => report(`Sweep of ${source.name} queued.`),
    onError: (e) => report(errorMessage(e)),
  });
  const toggle = useMutation({
    mutationFn: () => api.setEnabled(source.id, !source.enabled),
    onSuccess: (s) => {
      report(`${s.name} ${s.enabled ? "enabled" : "disabled"}.`);
      void client.invalidateQueries({ queryKey: ["sources"] });
    },
    onError: (e) => report(errorMessage(e)),
  });
  return (
    <div className="flex gap-2">
      <Button
        look="primary"
        small
        onClick={() => sweep.mutate()}
        disabled={!source.enabled || sweep.isPending}
        aria-label={`Sweep now: ${source.name}`}
        className="whitespace-nowrap"
      >
        Sweep now
      </Button>
      <Button
        small
        onClick={() => toggle.mutate()}
        disabled={toggle.isPending}
        aria-label={`${source.enabled ? "Disable" : "Enable"}: ${source.name}`}
      >
        {source.enabled ? "Disable" : "Enable"}
      </Button>
    </div>
  );
}

export default function SourcesPage() {
  const isStaff = useAuth((s) => s.user?.is_staff ?? false);
  const [message, setMessage] = useState("");
  const query = useQuery({ queryKey: ["sources"], queryFn: api.sources, refetchInterval: 15_000 });

  return (
    <section aria-labelledby="sources-title">
      <h1 id="sources-title" className="text-2xl font-bold">
        Sources
      </h1>
      <p role="status" className="min-h-6 text-sm text-slate-700">
        {message}
      </p>
      {query.isPending ? (
        <Loading what="sources" />
      ) : query.isError ? (
        <ErrorState error={query.error} retry={() => void query.refetch()} />
      ) : query.data.results.length === 0 ? (
        <Empty>No sources yet. Add them in the admin or with `manage.py load_sources`.</Empty>
      ) : (
        <DataTable
          caption="Sources and their health"
          columns={headings([
            "Source",
            "Kind",
            "Enabled",
            "Last success",
            "Last error",
            "Failures",
            "Circuit",
            "Interval",
            isStaff && "Actions",
          ])}
        >
          {query.data.results.map((s) => (
            <tr key={s.id} className="border-t border-slate-200 align-top">
              <th scope="row" className="max-w-xs break-words px-3 py-2 font-semibold">
                {s.name}
              </th>
              <td className="px-3 py-2">{s.kind}</td>
              <td className="px-3 py-2">{s.enabled ? "yes" : "no"}</td>
              <td className="whitespace-nowrap px-3 py-2">{ago(s.last_success_at)}</td>
              <td className="max-w-xs px-3 py-2">
                {s.last_error ? (
                  <span title={s.last_error} className="line-clamp-2 break-words text-red-800">
                    {ago(s.last_failure_at)}: {s.last_error}
                  </span>
                ) : (
                  "—"
                )}
              </td>
              <td className="px-3 py-2">{s.failure_count}</td>
              <td className="px-3 py-2">
                <span className={`rounded px-2 py-0.5 text-xs ${CIRCUIT_CLASSES[s.circuit_state]}`}>
                  {s.circuit_state.replace("_", "-")}
                </span>
              </td>
              <td className="whitespace-nowrap px-3 py-2">
                {seconds(s.adaptive_interval_seconds ?? s.interval_seconds)}
                {s.adaptive_interval_seconds ? " (adaptive)" : ""}
              </td>
              {isStaff && (
                <td className="px-3 py-2">
                  <StaffActions source={s} report={setMessage} />
                </td>
              )}
            </tr>
          ))}
        </DataTable>
      )}
    </section>
  );
}
