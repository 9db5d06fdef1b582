import type { ReactNode } from "react";
import { errorMessage } from "../lib/api";

export function Loading({ what }: { what: string }) {
  return (
    <p role="status" className="p-6 text-slate-600">
      Loading {what}…
    </p>
  );
}

export function ErrorState({ error, retry }: { error: unknown; retry?: () => void }) {
  return (
    <div role="alert" className="m-4 rounded border border-red-300 bg-red-50 p-4 text-red-900">
      <p className="font-semibold">Something went wrong</p>
      <p>{errorMessage(error)}</p>
      {retry && (
        <button type="button" onClick={retry} className="mt-2 rounded bg-red-700 px-3 py-1 text-white">
          Try again
        </button>
      )}
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return (
    <p className="m-4 rounded border border-dashed border-slate-300 p-6 text-center text-slate-600">
      {children}
    </p>
  );
}
