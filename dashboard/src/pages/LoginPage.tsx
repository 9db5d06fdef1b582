import { useState, type FormEvent } from "react";
import axios from "axios";
import { useAuth } from "../lib/auth";

function Credential({
  id,
  label,
  type = "text",
  autoComplete = id,
  value,
  onChange,
}: {
  id: string;
  label: string;
  type?: string;
  autoComplete?: string;
  value: string;
  onChange: (value: string) => void;
}) {
  return (
    <div>
      <label htmlFor={id} className="block text-sm font-medium">
        {label}
      </label>
      <input
        id={id}
        type={type}
        autoComplete={autoComplete}
        required
        value={value}
        onChange={(e) => onChange(e.target.value)}
        className="mt-1 w-full rounded border border-slate-400 px-3 py-2"
      />
    </div>
  );
}

export function LoginPage() {
  const login = useAuth((s) => s.login);
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError("");
    try {
      await login(username, password);
    } catch (err) {
      if (axios.isAxiosError(err) && err.response?.status === 401) setError("Wrong username or password.");
      else if (axios.isAxiosError(err) && err.response?.status === 429)
        setError("Too many attempts; wait a few minutes and try again.");
      else if (axios.isAxiosError(err) && !err.response)
        setError("The server cannot be reached. Is it running?");
      else setError("Login failed; try again.");
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="flex min-h-screen items-center justify-center p-4">
      <form onSubmit={submit} className="w-full max-w-sm space-y-4 rounded-lg bg-white p-6 shadow">
        <h1 className="text-xl font-bold">TGE News Sweeper</h1>
        <p className="text-sm text-slate-600">Log in with your sweeper account.</p>
        <Credential id="username" label="Username" value={username} onChange={setUsername} />
        <Credential
          id="password"
          label="Password"
          type="password"
          autoComplete="current-password"
          value={password}
          onChange={setPassword}
        />
        {error && (
          <p role="alert" className="text-sm text-red-800">
            {error}
          </p>
        )}
        <button
          type="submit"
          disabled={busy}
          className="w-full rounded bg-slate-900 py-2 font-semibold text-white disabled:opacity-60"
        >
          {busy ? "Logging in…" : "Log in"}
        </button>
      </form>
    </main>
  );
}
