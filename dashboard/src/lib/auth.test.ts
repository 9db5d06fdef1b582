import { afterEach, describe, expect, it, vi } from "vitest";
import axios from "axios";
import { csrfToken, REFRESH_MARGIN_MS, refreshDelay, useAuth } from "./auth";

describe("the session", () => {
  afterEach(() => vi.restoreAllMocks());

  it("renews the access token a minute before it expires, at once when it is late", () => {
    expect(refreshDelay(1_000_000, 1_000_000 - 5 * 60_000)).toBe(5 * 60_000 - REFRESH_MARGIN_MS);
    expect(refreshDelay(1_000_000, 999_999)).toBe(0);
  });

  it("reads the CSRF cookie Django sets", () => {
    document.cookie = "csrftoken=abc%3D123";
    expect(csrfToken()).toBe("abc=123");
  });

  it("keeps the access token in memory only", async () => {
    const session = {
      access: "header.payload.signature",
      access_expires_at: new Date(Date.now() + 3600_000).toISOString(),
      user: { username: "ann", is_staff: false },
    };
    vi.spyOn(axios.Axios.prototype, "request").mockResolvedValue({ data: session });
    await useAuth.getState().login("ann", "pw");
    expect(useAuth.getState()).toMatchObject({ access: session.access, status: "authenticated" });
    expect(JSON.stringify(window.localStorage)).not.toContain(session.access);
    expect(JSON.stringify(window.sessionStorage)).not.toContain(session.access);
    expect(document.cookie).not.toContain(session.access);
  });
});
