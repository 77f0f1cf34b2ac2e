import { afterAll, afterEach, describe, expect, it } from "vitest";
import { startTestServer, tempDir, type TestServer, type TestServerOptions } from "./harness";
import { rawRequest } from "./raw";

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

const probe = async (t: TestServer, path: "/healthz" | "/readyz", headers: Record<string, string> = {}) => {
  const r = await rawRequest(`http://127.0.0.1:${t.server.port}${path}`, { headers: { host: `127.0.0.1:${t.server.port}`, ...headers } });
  return { status: r.status, body: JSON.parse(r.body) as Record<string, unknown>, raw: r };
};

describe("GET /healthz (liveness)", () => {
  it("answers 200 whatever the Host and Origin: orchestrators probe by pod IP", async () => {
    const t = await start();
    expect(await probe(t, "/healthz")).toMatchObject({ status: 200, body: { status: "ok" } });
    expect(await probe(t, "/healthz", { host: "10.1.2.3:3000", origin: "http://evil.example", "sec-fetch-site": "cross-site" })).toMatchObject({ status: 200 });
    const head = await rawRequest(`http://127.0.0.1:${t.server.port}/healthz`, { method: "HEAD" });
    expect({ status: head.status, body: head.body }).toEqual({ status: 200, body: "" });
    const post = await rawRequest(`http://127.0.0.1:${t.server.port}/healthz`, { method: "POST" });
    expect({ status: post.status, allow: post.headers.allow }).toEqual({ status: 405, allow: "GET, HEAD" });
  });
});

describe("GET /readyz (readiness)", () => {
  it("answers 200 when the database answers and runs are accepted, whatever the Host", async () => {
    const t = await start();
    expect(await probe(t, "/readyz")).toMatchObject({ status: 200, body: { status: "ready", checks: { accepting: true, database: "ok" } } });
    expect((await probe(t, "/readyz", { host: "10.1.2.3:3000" })).status).toBe(200);
    expect((await probe(t, "/readyz")).raw.headers["cache-control"]).toBe("no-store");
  });

  it("answers 503 draining once shutdown began, while /healthz stays 200 and the API still answers", async () => {
    const t = await start();
    await t.services.drain();
    expect(await probe(t, "/readyz")).toMatchObject({ status: 503, body: { status: "not_ready", reason: "draining", checks: { accepting: false, database: "ok" } } });
    expect((await probe(t, "/healthz")).status).toBe(200);
    expect((await t.sse.health.query()).accepting).toBe(false);
  });

  it("answers 503 when the database fails, without the driver's message, and 200 again once it answers", async () => {
    const t = await start();
    const ping = t.services.ping.bind(t.services);
    t.services.ping = () => Promise.reject(new Error("SQLITE_CANTOPEN: unable to open /secret/path/wf.db"));
    const down = await probe(t, "/readyz");
    expect(down).toMatchObject({ status: 503, body: { status: "not_ready", reason: "database_unavailable", checks: { accepting: true, database: "unavailable" } } });
    expect(down.raw.body).not.toContain("secret");
    t.services.ping = ping;
    expect((await probe(t, "/readyz")).status).toBe(200);
  });

  it("answers 503 when the database does not answer within the timeout", async () => {
    const t = await start({ readinessTimeoutMs: 50 });
    t.services.ping = () => new Promise<void>(() => undefined);
    expect(await probe(t, "/readyz")).toMatchObject({ status: 503, body: { reason: "database_unavailable" } });
  });

  it("answers 503 once the database is closed (Prisma would silently reconnect: ping refuses after close)", async () => {
    const t = await start();
    await t.services.close();
    await expect(t.services.ping()).rejects.toThrow("database closed");
    expect(await probe(t, "/readyz")).toMatchObject({ status: 503, body: { status: "not_ready", checks: { accepting: false, database: "unavailable" } } });
  });
});
