import { TRPCClientError, type TRPCUntypedClient } from "@trpc/client";
import { ApiKeyStore, openDatabase } from "@workflows/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiKeys } from "../src/auth/apiKeys";
import { allows, type Access, type Role } from "../src/auth/roles";
import type { AppRouter } from "../src/router";
import { appRouter } from "../src/routers";
import { clientsWith, collect, startTestServer, tempDir, waitFor, type TestServer } from "./harness";

type UntypedClient = TRPCUntypedClient<AppRouter>;
type ProcedureDef = { _def: { type: "query" | "mutation" | "subscription"; meta?: { access?: Access } } };
// At run time `_def.procedures` is flat, by dotted path (its type is the nested record).
const procedures = Object.entries(appRouter._def.procedures as unknown as Record<string, ProcedureDef>);

/**
 * A cheap input per procedure, whose outcome for an admitted caller is known and has no lasting effect
 * (unknown ids and keys: NOT_FOUND; an invalid key name: BAD_REQUEST). A new procedure needs a line here.
 */
const samples: Record<string, unknown> = {
  health: undefined,
  "agents.list": undefined,
  "agents.get": { key: "triage" },
  "chat.send": { message: "hi", agentKey: "no_such_agent" },
  "chat.stream": { message: "hi", agentKey: "no_such_agent" },
  "workflows.list": undefined,
  "workflows.get": { key: "no_such_workflow" },
  "workflows.run": { key: "no_such_workflow", input: "x" },
  "workflows.runStream": { key: "no_such_workflow", input: "x" },
  "runs.list": undefined,
  "runs.get": { workflowRunId: "no-such-run" },
  "runs.events": { workflowRunId: "no-such-run" },
  "runs.cancel": { workflowRunId: "no-such-run" },
  "runs.resume": { workflowRunId: "no-such-run" },
  "runs.delete": { workflowRunId: "no-such-run" },
  "runs.approve": { workflowRunId: "no-such-run", approvalId: "no-such-approval", approved: true },
  "keys.list": undefined,
  "keys.create": { name: "", role: "viewer" },
  "keys.revoke": { name: "nobody" },
};

/** The access each procedure states; changing one is a decision this table records. */
const expectedAccess: Record<string, Access> = {
  health: "public",
  "agents.list": "viewer",
  "agents.get": "viewer",
  "workflows.list": "viewer",
  "workflows.get": "viewer",
  "runs.list": "viewer",
  "runs.get": "viewer",
  "runs.events": "viewer",
  "workflows.run": "operator",
  "workflows.runStream": "operator",
  "runs.cancel": "operator",
  "runs.resume": "operator",
  "runs.approve": "operator",
  "chat.send": "operator",
  "chat.stream": "operator",
  "runs.delete": "admin",
  "keys.list": "admin",
  "keys.create": "admin",
  "keys.revoke": "admin",
};

type Outcome = { ok: true } | { ok: false; code: string };

async function call(client: UntypedClient, path: string, type: ProcedureDef["_def"]["type"]): Promise<Outcome> {
  const input = samples[path];
  if (type === "subscription") {
    return await new Promise<Outcome>((resolve) => {
      const sub = client.subscription(path, input, {
        onData: () => {
          sub.unsubscribe();
          resolve({ ok: true });
        },
        onError: (error) => {
          sub.unsubscribe();
          resolve({ ok: false, code: String((error.data as { code?: string } | undefined)?.code) });
        },
        onComplete: () => resolve({ ok: true }),
      });
    });
  }
  try {
    await (type === "query" ? client.query(path, input) : client.mutation(path, input));
    return { ok: true };
  } catch (error) {
    if (!(error instanceof TRPCClientError)) throw error;
    return { ok: false, code: String((error.data as { code?: string } | undefined)?.code) };
  }
}

const refusal = (o: Outcome) => (o.ok ? "admitted" : o.code === "UNAUTHORIZED" || o.code === "FORBIDDEN" ? o.code : "admitted");

describe("every procedure states who may call it", () => {
  it("has an access level and a sample input, as the table says", () => {
    const stated = Object.fromEntries(procedures.map(([path, p]) => [path, p._def.meta?.access ?? "(none)"]));
    expect(stated).toEqual(expectedAccess);
    expect(Object.keys(samples).sort()).toEqual(Object.keys(expectedAccess).sort());
  });
});

describe("AUTH_MODE=keys", () => {
  let t: TestServer;
  const tmp = tempDir();
  const keys: Record<Role | "revoked", string> = { viewer: "", operator: "", admin: "", revoked: "" };
  beforeAll(async () => {
    t = await startTestServer({ dbUrl: tmp.dbUrl, auth: { mode: "keys", revocationCheckMs: 100 } });
    for (const role of ["viewer", "operator", "admin"] as const) keys[role] = (await t.services.keys.create(`${role}-key`, role)).key;
    keys.revoked = (await t.services.keys.create("gone", "admin")).key;
    await t.services.keys.revoke("gone");
  }, 60_000);
  afterAll(async () => {
    await t.close();
    await tmp.remove();
  });

  const credentials: [string, (k: typeof keys) => string | null, Role | null][] = [
    ["no key", () => null, null],
    ["a malformed header", () => "Basic dXNlcjpwYXNz", null],
    ["an unknown key", () => `Bearer wfk_${"A".repeat(43)}`, null],
    ["a revoked key", (k) => `Bearer ${k.revoked}`, null],
    ["a viewer key", (k) => `Bearer ${k.viewer}`, "viewer"],
    ["an operator key", (k) => `Bearer ${k.operator}`, "operator"],
    ["an admin key", (k) => `Bearer ${k.admin}`, "admin"],
  ];

  it.each(credentials)("with %s: every procedure over HTTP, SSE and WebSocket is admitted or refused by its access", async (_what, credential, role) => {
    const authorization = credential(keys);
    const viaParams = clientsWith(t.server.url, authorization);
    const viaHeader = clientsWith(t.server.url, authorization, { sseAuth: "header" });
    try {
      const seen: Record<string, string> = {};
      const expected: Record<string, string> = {};
      for (const [path, p] of procedures) {
        const access = expectedAccess[path] ?? "admin";
        const want = access === "public" ? "admitted" : role === null ? "UNAUTHORIZED" : allows(role, access) ? "admitted" : "FORBIDDEN";
        const transports: [string, UntypedClient][] = [
          [p._def.type === "subscription" ? "sse" : "http", viaParams.http],
          ["ws", viaParams.ws],
          ...(p._def.type === "subscription" ? ([["sse-header", viaHeader.http]] as [string, UntypedClient][]) : []),
        ];
        for (const [transport, client] of transports) {
          seen[`${path} ${transport}`] = refusal(await call(client, path, p._def.type));
          expected[`${path} ${transport}`] = want;
        }
      }
      expect(seen).toEqual(expected);
    } finally {
      await viaParams.wsClient.close();
      await viaHeader.wsClient.close();
    }
  });

  it("says what is missing: a key, the Bearer form, or a role", async () => {
    const anonymous = clientsWith(t.server.url, null);
    const viewer = clientsWith(t.server.url, `Bearer ${keys.viewer}`);
    const bare = clientsWith(t.server.url, keys.viewer);
    try {
      const noKey = await anonymous.typedSse.agents.list.query().catch((e: unknown) => e);
      expect(noKey).toMatchObject({ data: { code: "UNAUTHORIZED", httpStatus: 401 } });
      expect(String(noKey)).toMatch(/Authorization: Bearer/);
      // A valid key sent without "Bearer " is told the header's form, not that the key is unknown.
      const noBearer = await bare.typedSse.agents.list.query().catch((e: unknown) => e);
      expect(noBearer).toMatchObject({ data: { code: "UNAUTHORIZED", httpStatus: 401 } });
      expect(String(noBearer)).toMatch(/must be `Bearer <key>`/);
      const tooLow = await viewer.typedSse.workflows.run.mutate({ input: "x" }).catch((e: unknown) => e);
      expect(tooLow).toMatchObject({ data: { code: "FORBIDDEN", httpStatus: 403 } });
      expect(String(tooLow)).toMatch(/operator role/);
      expect((await anonymous.typedSse.health.query()).ok).toBe(true);
    } finally {
      await anonymous.wsClient.close();
      await viewer.wsClient.close();
      await bare.wsClient.close();
    }
  });

  it("lets an admin create, list and revoke keys; the list holds no secret and the revoked key fails on its next call", async () => {
    const admin = clientsWith(t.server.url, `Bearer ${keys.admin}`);
    try {
      const made = await admin.typedSse.keys.create.mutate({ name: "ci", role: "operator" });
      expect(made.key).toMatch(/^wfk_[A-Za-z0-9_-]{43}$/);
      await expect(admin.typedSse.keys.create.mutate({ name: "ci", role: "viewer" })).rejects.toMatchObject({ data: { code: "CONFLICT" } });
      const ci = clientsWith(t.server.url, `Bearer ${made.key}`);
      try {
        expect((await ci.typedSse.workflows.list.query()).length).toBeGreaterThan(0);
        const listed = await admin.typedSse.keys.list.query();
        const ciInfo = listed.find((k) => k.name === "ci");
        expect(ciInfo).toMatchObject({ role: "operator", revokedAt: null });
        expect(ciInfo?.lastUsedAt).toBeTypeOf("string");
        expect(JSON.stringify(listed)).not.toContain(made.key.slice(4, 20));
        await admin.typedSse.keys.revoke.mutate({ name: "ci" });
        await expect(ci.typedSse.workflows.list.query()).rejects.toMatchObject({ data: { code: "UNAUTHORIZED" } });
        await expect(admin.typedSse.keys.revoke.mutate({ name: "ci" })).rejects.toMatchObject({ data: { code: "NOT_FOUND" } });
      } finally {
        await ci.wsClient.close();
      }
    } finally {
      await admin.wsClient.close();
    }
  });

  it("guards /metrics like a viewer procedure: no key or a revoked key gets 401, any live key reads them", async () => {
    const metricsUrl = new URL("/metrics", t.server.url).toString();
    const scrape = (authorization?: string) => fetch(metricsUrl, authorization ? { headers: { authorization } } : {});
    expect((await scrape()).status).toBe(401);
    expect((await scrape(`Bearer ${keys.revoked}`)).status).toBe(401);
    expect((await scrape("Bearer wfk_not-a-key")).status).toBe(401);
    const read = await scrape(`Bearer ${keys.viewer}`);
    expect(read.status).toBe(200);
    expect(await read.text()).toContain("workflows_");
  });

  it.runIf(tmp.dir !== null)("stores no key in clear: neither the key nor its secret part is in the SQLite file", async () => {
    const { readFileSync, readdirSync } = await import("node:fs");
    const dir = tmp.dir!;
    await t.services.ping();
    const files = readdirSync(dir).map((f) => readFileSync(`${dir}/${f}`).toString("latin1"));
    for (const key of Object.values(keys)) {
      for (const text of files) {
        expect(text).not.toContain(key);
        expect(text).not.toContain(key.slice(16));
      }
    }
  });
});

describe("revocation and audit on live runs", () => {
  // The offline model pausing between deltas: a run streams long enough to revoke or cancel it midway.
  let t: TestServer;
  const tmp = tempDir();
  let admin: string;
  beforeAll(async () => {
    t = await startTestServer({ dbUrl: tmp.dbUrl, model: { provider: "offline", delayMs: 40 }, auth: { mode: "keys", revocationCheckMs: 100 } });
    admin = (await t.services.keys.create("root", "admin")).key;
  }, 60_000);
  afterAll(async () => {
    await t.services.activeRuns.abortAll("test over", 10_000);
    await t.close();
    await tmp.remove();
  });

  const cases = [
    ["sse", "through keys.revoke"],
    ["ws", "through keys.revoke"],
    ["sse", "by another process on the same database"],
    ["ws", "by another process on the same database"],
  ] as const;
  it.each(cases)("ends an open %s subscription once its key is revoked %s", async (transport, how) => {
    const name = `watcher-${transport}-${how.length}`;
    const { key } = await t.services.keys.create(name, "operator");
    const c = clientsWith(t.server.url, `Bearer ${key}`);
    const root = clientsWith(t.server.url, `Bearer ${admin}`);
    try {
      const client = transport === "sse" ? c.typedSse : c.typedWs;
      const seen: string[] = [];
      let runId = "";
      const ended = new Promise<string>((resolve) => {
        client.workflows.runStream.subscribe(
          { key: "analysis_code", input: "Compute the mean of 1, 2, 3 and write it up at length." },
          {
            onData: (e) => {
              runId = e.data.workflowRunId;
              seen.push(e.data.type);
            },
            onError: (error) => resolve(String(error.data?.code)),
            onComplete: () => resolve("completed"),
          },
        );
      });
      await waitFor(() => seen.includes("step.delta"), 60_000);
      if (how === "through keys.revoke") await root.typedSse.keys.revoke.mutate({ name });
      else {
        const other = await openDatabase({ url: tmp.dbUrl });
        try {
          await new ApiKeys(new ApiKeyStore(other.prisma)).revoke(name);
        } finally {
          await other.close();
        }
      }
      expect(await ended).toBe("UNAUTHORIZED");
      expect(seen).not.toContain("run.completed");
      // The run itself goes on: revoking a key stops its access, not the work it started.
      await root.typedSse.runs.cancel.mutate({ workflowRunId: runId }).catch(() => undefined);
    } finally {
      await c.wsClient.close();
      await root.wsClient.close();
    }
  });

  it("records who started, cancelled and resumed a run; runs.list filters by who started", async () => {
    const { key } = await t.services.keys.create("alice", "operator");
    const alice = clientsWith(t.server.url, `Bearer ${key}`);
    const root = clientsWith(t.server.url, `Bearer ${admin}`);
    try {
      const events = collect(alice.typedSse.workflows.runStream.subscribe({ key: "analysis_code", input: "Compute the mean of 2, 4, 6." }), {
        until: (e) => e.data.type === "step.delta",
        timeoutMs: 60_000,
      });
      const runId = (await events)[0]?.data.workflowRunId ?? "";
      expect((await root.typedSse.runs.get.query({ workflowRunId: runId })).run.createdBy).toBe("alice");
      expect(await root.typedSse.runs.cancel.mutate({ workflowRunId: runId })).toMatchObject({ status: "cancelled" });
      await alice.typedSse.runs.resume.mutate({ workflowRunId: runId });
      const log = await collect(root.typedSse.runs.events.subscribe({ workflowRunId: runId }), { until: (e) => e.data.type === "run.resumed", timeoutMs: 60_000 });
      expect(log.find((e) => e.data.type === "run.cancelled")?.data).toMatchObject({ by: "root" });
      expect(log.find((e) => e.data.type === "run.resumed")?.data).toMatchObject({ by: "alice", resumedBy: "api" });
      await root.typedSse.runs.cancel.mutate({ workflowRunId: runId }).catch(() => undefined);

      const mine = await root.typedSse.runs.list.query({ createdBy: "alice" });
      expect(mine.items.map((r) => r.workflowRunId)).toEqual([runId]);
      expect(mine.items[0]?.createdBy).toBe("alice");
      expect((await root.typedSse.runs.list.query({ createdBy: "nobody" })).items).toEqual([]);
    } finally {
      await alice.wsClient.close();
      await root.wsClient.close();
    }
  });
});

describe("AUTH_MODE=none", () => {
  it("lets every caller do everything as `local`, and records it", async () => {
    const tmp = tempDir();
    const t = await startTestServer({ dbUrl: tmp.dbUrl });
    try {
      const result = await t.sse.workflows.run.mutate({ key: "analysis_code", input: "Compute the mean of 1, 2." });
      expect((await t.sse.runs.get.query({ workflowRunId: result.workflowRunId })).run.createdBy).toBe("local");
      expect((await t.sse.keys.list.query())).toEqual([]);
    } finally {
      await t.close();
      await tmp.remove();
    }
  });
});
