import { Component, type ReactNode } from "react";

interface State {
  failed: boolean;
}

/** A page whose code cannot be loaded (the server is down mid-session) says so instead of leaving a blank screen. */
export class PageErrorBoundary extends Component<{ children: ReactNode; resetKey: string }, State> {
  state: State = { failed: false };

  static getDerivedStateFromError(): State {
    return { failed: true };
  }

  componentDidUpdate(previous: { resetKey: string }) {
    if (previous.resetKey !== this.props.resetKey && this.state.failed) this.setState({ failed: false });
  }

  render() {
    if (!this.state.failed) return this.props.children;
    return (
      <div role="alert" className="m-4 rounded border border-red-300 bg-red-50 p-4 text-red-900">
        <p className="font-semibold">This page could not be loaded</p>
        <p>
          The server cannot be reached, or the dashboard was updated. Reload the page when the sweeper is
          back.
        </p>
        <button
          type="button"
          onClick={() => window.location.reload()}
          className="mt-2 rounded bg-red-700 px-3 py-1 text-white"
        >
          Reload
        </button>
      </div>
    );
  }
}
