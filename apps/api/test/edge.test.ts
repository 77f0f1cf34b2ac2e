import { connect } from "node:net";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { collect, isEnd, rejection, startTestServer, tempDir, type TestServer, type TestServerOptions } from "./harness";
import { firstSubscriptionData, openSocket, rawRequest, type RawResponse } from "./raw";

const tmp = tempDir();
const open: TestServer[] = [];
let n = 0;
const start = async (edge?: TestServerOptions["edge"]) => {
  const s = await startTestServer({ dbUrl: `${tmp.dbUrl}.${++n}`, ...(edge ? { edge } : {}) });
  open.push(s);
  return s;
};
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});
afterAll(() => tmp.remove());

const evil = "http://evil.example";
const runStreamInput = encodeURIComponent(JSON.stringify({ key: "analysis_code", input: "mean of 1, 2, 3" }));
const refusal = (r: RawResponse) => ({ status: r.status, type: r.headers["content-type"], reason: (JSON.parse(r.body) as { error: { reason: string } }).error.reason });

describe("browsers cannot drive the API (no ALLOWED_ORIGINS)", () => {
  it("refuses a cross-site GET subscription, hostile Origins over HTTP and WebSocket; no run starts", async () => {
    const t = await start();
    const base = `http://127.0.0.1:${t.server.port}`;
    const runStream = `${base}/trpc/workflows.runStream?input=${runStreamInput}`;
    const host = `127.0.0.1:${t.server.port}`;

    // What an <img>, <script> or EventSource of another site sends.
    expect(refusal(await rawRequest(runStream, { headers: { host, "sec-fetch-site": "cross-site", accept: "text/event-stream" } }))).toEqual({ status: 403, type: "application/json", reason: "cross_site" });
    // Another local dev server (http://localhost:5173) is same-site with a loopback server.
    expect(refusal(await rawRequest(runStream, { headers: { host, "sec-fetch-site": "same-site" } }))).toMatchObject({ status: 403, reason: "cross_site" });
    expect(refusal(await rawRequest(runStream, { headers: { host, origin: evil } }))).toMatchObject({ status: 403, reason: "origin_not_allowed" });
    // A form or a fetch with a CORS-simple body, and a JSON fetch.
    const body = JSON.stringify({ key: "analysis_code", input: "x" });
    expect(refusal(await rawRequest(`${base}/trpc/workflows.run`, { method: "POST", headers: { host, "content-type": "text/plain", "sec-fetch-site": "cross-site" }, body }))).toMatchObject({ status: 403, reason: "cross_site" });
    expect(refusal(await rawRequest(`${base}/trpc/workflows.run`, { method: "POST", headers: { host, "content-type": "application/json", origin: evil }, body }))).toMatchObject({ status: 403, reason: "origin_not_allowed" });
    // A page's WebSocket, on both paths the server takes upgrades on.
    for (const path of ["/trpc", "/"]) {
      const ws = await openSocket(`ws://127.0.0.1:${t.server.port}${path}`, { origin: evil });
      expect(ws).toMatchObject({ opened: false, status: 403 });
      if (!ws.opened) expect(JSON.parse(ws.body)).toMatchObject({ error: { code: "FORBIDDEN", reason: "origin_not_allowed" } });
    }

    expect((await t.sse.runs.list.query({})).items).toEqual([]);
    expect(t.services.activeRuns.size).toBe(0);

    // The control: the same GET without a browser's marks does start a run, so the refusals above were what stopped it.
    const control = await rawRequest(runStream, { headers: { host }, until: (b) => b.includes("workflowRunId") });
    expect(control.status).toBe(200);
    expect((await t.sse.runs.list.query({})).items).toHaveLength(1);
  });

  it("refuses Host names it does not answer to (DNS rebinding) over HTTP and WebSocket", async () => {
    const t = await start();
    const base = `http://127.0.0.1:${t.server.port}`;
    for (const host of [`evil.example:${t.server.port}`, "evil.example", `127.0.0.1.nip.io:${t.server.port}`]) {
      // A rebound page is same-origin with itself: only the Host header gives it away.
      const r = await rawRequest(`${base}/trpc/workflows.runStream?input=${runStreamInput}`, { headers: { host, "sec-fetch-site": "same-origin" } });
      expect(refusal(r)).toMatchObject({ status: 403, reason: "host_not_allowed" });
      expect((JSON.parse(r.body) as { error: { message: string } }).error.message).toContain("ALLOWED_HOSTS");
    }
    const ws = await openSocket(`ws://127.0.0.1:${t.server.port}/trpc`, { headers: { host: `evil.example:${t.server.port}` } });
    expect(ws).toMatchObject({ opened: false, status: 403 });
    expect((await t.sse.runs.list.query({})).items).toEqual([]);
  });

  it("answers the loopback names with or without the port", async () => {
    const t = await start();
    for (const host of [`localhost:${t.server.port}`, "localhost", `127.0.0.1:${t.server.port}`, "[::1]", `[::1]:${t.server.port}`]) {
      const r = await rawRequest(`http://127.0.0.1:${t.server.port}/trpc/health`, { headers: { host } });
      expect({ host, status: r.status }).toEqual({ host, status: 200 });
    }
  });

  it("keeps the typed clients working: queries and mutations over HTTP, subscriptions over SSE and WebSocket", async () => {
    const t = await start();
    expect((await t.sse.health.query()).ok).toBe(true);
    expect((await t.sse.workflows.run.mutate({ key: "analysis_code", input: "mean of 1, 2" })).status).toBe("succeeded");
    for (const client of [t.sse, t.ws]) {
      const events = await collect(client.workflows.runStream.subscribe({ key: "analysis_code", input: "mean of 3, 4" }), { until: isEnd });
      expect(events.at(-1)?.data.type).toBe("run.completed");
    }
    expect((await t.sse.runs.list.query({})).items).toHaveLength(3);
  });
});

describe("ALLOWED_ORIGINS and ALLOWED_HOSTS", () => {
  const ui = "http://ui.example:5173";

  it("lets a page of an allowed origin call over HTTP with CORS (preflight included) and WebSocket, and no other", async () => {
    const t = await start({ allowedOrigins: [ui] });
    const base = `http://127.0.0.1:${t.server.port}`;
    const host = `127.0.0.1:${t.server.port}`;

    const preflight = await rawRequest(`${base}/trpc/workflows.run`, {
      method: "OPTIONS",
      headers: { host, origin: ui, "sec-fetch-site": "cross-site", "access-control-request-method": "POST", "access-control-request-headers": "content-type" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers).toMatchObject({ "access-control-allow-origin": ui, "access-control-allow-headers": "content-type", vary: "Origin" });

    const run = await rawRequest(`${base}/trpc/workflows.run`, {
      method: "POST",
      headers: { host, origin: ui, "sec-fetch-site": "cross-site", "content-type": "application/json" },
      body: JSON.stringify({ key: "analysis_code", input: "mean of 1, 2" }),
    });
    expect(run.status).toBe(200);
    expect(run.headers["access-control-allow-origin"]).toBe(ui);

    const ws = await openSocket(`ws://127.0.0.1:${t.server.port}/trpc`, { origin: ui });
    if (!ws.opened) throw new Error(`upgrade refused: ${ws.status} ${ws.body}`);
    try {
      expect(await firstSubscriptionData(ws.socket, "workflows.runStream", { key: "analysis_code", input: "mean of 5, 6" })).toMatchObject({ data: { type: "run.started" } });
    } finally {
      ws.socket.terminate();
    }

    expect(await openSocket(`ws://127.0.0.1:${t.server.port}/trpc`, { origin: "http://ui.example:5174" })).toMatchObject({ opened: false, status: 403 });
    expect((await rawRequest(`${base}/trpc/health`, { headers: { host, origin: "https://ui.example:5173" } })).status).toBe(403);
    expect((await t.sse.runs.list.query({})).items).toHaveLength(2);
  });

  it("answers a name listed in ALLOWED_HOSTS, and still no other", async () => {
    const t = await start({ allowedHosts: ["workflows.test"] });
    const url = `http://127.0.0.1:${t.server.port}/trpc/health`;
    expect((await rawRequest(url, { headers: { host: `workflows.test:${t.server.port}` } })).status).toBe(200);
    expect((await rawRequest(url, { headers: { host: `other.test:${t.server.port}` } })).status).toBe(403);
    expect(await openSocket(`ws://127.0.0.1:${t.server.port}`, { headers: { host: "workflows.test" } })).toMatchObject({ opened: true });
  });
});

describe("inputs in the URL (queries and SSE subscriptions)", () => {
  it("takes an input of nearly MAX_INPUT_BYTES over SSE, and a batch of 300 queries, past Node's 16 KiB of headers", async () => {
    const t = await start();
    // 20,000 "é": 40,000 bytes of input, 120,000 characters once percent-encoded in the URL.
    const input = `mean of 1, 2 ${"é".repeat(20_000)}`;
    const events = await collect(t.sse.workflows.runStream.subscribe({ key: "analysis_code", input }), { until: isEnd });
    expect(events.at(-1)?.data.type).toBe("run.completed");
    const misses = await Promise.all(Array.from({ length: 300 }, (_, i) => rejection(t.sse.runs.get.query({ workflowRunId: `run-that-is-not-there-${i}` }))));
    expect(new Set(misses.map((e) => e.data?.code))).toEqual(new Set(["NOT_FOUND"]));
  });

  it("answers a URL over the limit with a typed PAYLOAD_TOO_LARGE that says what to do, not a bare 431", async () => {
    const t = await start();
    const error = await rejection(t.sse.runs.get.query({ workflowRunId: "x".repeat(250_000) }));
    expect(error.data?.code).toBe("PAYLOAD_TOO_LARGE");
    expect(error.data?.httpStatus).toBe(431);
    expect(error.message).toMatch(/exceed \d+ bytes: send an input this large in a mutation's body \(POST\), or subscribe over WebSocket/);
    expect((await t.sse.health.query()).ok).toBe(true);
  });

  it("answers a request Node cannot parse with a plain 400 and closes, as Node does", async () => {
    const t = await start();
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(t.server.port, "127.0.0.1", () => socket.write("NOT A REQUEST\r\n\r\n"));
      let got = "";
      socket.on("data", (chunk: Buffer) => (got += chunk.toString()));
      socket.on("close", () => resolve(got));
      socket.on("error", reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect((await t.sse.health.query()).ok).toBe(true);
  });
});
