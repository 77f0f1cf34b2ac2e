import { TRPCClientError } from "@trpc/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clientsWith, startTestServer, tempDir, type TestServer } from "./harness";

describe("RATE_LIMIT_PER_MIN", () => {
  let t: TestServer;
  const tmp = tempDir();
  const keys: Record<string, string> = {};
  beforeAll(async () => {
    t = await startTestServer({ dbUrl: tmp.dbUrl, auth: { mode: "keys", rateLimitPerMin: 5 } });
    for (const name of ["busy", "calm"]) keys[name] = (await t.services.keys.create(name, "viewer")).key;
  }, 60_000);
  afterAll(async () => {
    await t.close();
    await tmp.remove();
  });

  it("refuses a key past its budget with TOO_MANY_REQUESTS and a retry hint, and leaves other keys alone", async () => {
    const busy = clientsWith(t.server.url, `Bearer ${keys.busy}`);
    const calm = clientsWith(t.server.url, `Bearer ${keys.calm}`);
    try {
      // Calls until the first refusal: at least the burst of 5 passes (a slow machine may earn a token or two meanwhile).
      let passed = 0;
      let refused: unknown = null;
      while (refused === null && passed < 20) {
        refused = await busy.typedSse.agents.list.query().then(() => null, (e: unknown) => e);
        if (refused === null) passed++;
      }
      expect(passed).toBeGreaterThanOrEqual(5);
      if (!(refused instanceof TRPCClientError)) throw new Error("expected a refusal");
      expect(refused.data).toMatchObject({ code: "TOO_MANY_REQUESTS", httpStatus: 429 });
      const retryAfterMs = (refused.data as { retryAfterMs?: number }).retryAfterMs;
      expect(retryAfterMs).toBeGreaterThan(0);
      expect(retryAfterMs).toBeLessThanOrEqual(12_000);
      expect(refused.message).toMatch(/retry in \d+ s/);
      // The same over WebSocket: one budget per key, whatever the transport.
      let overWs: unknown = null;
      for (let i = 0; i < 20 && overWs === null; i++) overWs = await busy.typedWs.workflows.list.query().then(() => null, (e: unknown) => e);
      expect(overWs).toMatchObject({ data: { code: "TOO_MANY_REQUESTS" } });

      // Another key still has its whole budget.
      for (let i = 0; i < 5; i++) expect((await calm.typedSse.workflows.list.query()).length).toBeGreaterThan(0);
      // health needs no key and counts against nobody.
      expect((await busy.typedSse.health.query()).ok).toBe(true);
    } finally {
      await busy.wsClient.close();
      await calm.wsClient.close();
    }
  });

  it("says when to come back in a Retry-After header", async () => {
    const url = `${t.server.url}/agents.list`;
    const headers = { authorization: `Bearer ${keys.busy}` };
    let response = await fetch(url, { headers });
    for (let i = 0; i < 10 && response.status !== 429; i++) response = await fetch(url, { headers });
    expect(response.status).toBe(429);
    expect(Number(response.headers.get("retry-after"))).toBeGreaterThan(0);
  });
});
