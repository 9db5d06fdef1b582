import { act, cleanup, render, screen } from "@testing-library/react";
import { MemoryRouter } from "react-router-dom";
import { afterEach, describe, expect, it } from "vitest";
import { useLive } from "../lib/liveStore";
import { LivePage } from "./LivePage";

function show() {
  return render(
    <MemoryRouter>
      <LivePage />
    </MemoryRouter>,
  );
}

describe("the Live page", () => {
  afterEach(() => {
    cleanup();
    useLive.setState({ rows: [], lastId: null, missed: false });
  });

  it("says it is waiting when nothing has arrived", () => {
    show();
    expect(screen.getByText(/Waiting for new or changed events/)).toBeTruthy();
  });

  it("shows what arrives at the top, with what changed, without a reload", () => {
    show();
    act(() =>
      useLive.getState().receive({
        log_id: "5-0",
        event: {
          id: 7,
          project: "Quillstone Network",
          ticker: "QSN",
          tge_date: "2026-12-18",
          status: "postponed",
          chain: null,
          confidence: 0.91,
          is_candidate: false,
          mention_count: 2,
          source_count: 2,
          first_seen_at: "2026-11-20T09:00:00Z",
          last_seen_at: "2026-11-21T09:00:00Z",
          changes: [
            { id: 3, kind: "postponed", old: { tge_date: "2026-12-04" }, new: { tge_date: "2026-12-18" } },
          ],
        },
      }),
    );
    const link = screen.getByRole("link", { name: "Quillstone Network" });
    expect(link.getAttribute("href")).toBe("/events/7");
    expect(screen.getByText("postponed (was 4 Dec 2026)")).toBeTruthy();
    expect(screen.getByText("91%")).toBeTruthy();
    expect(screen.getByText("TGE 18 Dec 2026")).toBeTruthy();
    expect(screen.queryByText(/Waiting for new/)).toBeNull();
  });

  it("says when the server could not replay everything it missed", () => {
    useLive.setState({ missed: true });
    show();
    expect(screen.getByRole("status").textContent).toMatch(/away longer than the server keeps them/);
  });
});
