import { FnModel, fnProvider, lastUserText } from "@workflows/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clientsWith, startTestServer, tempDir, waitFor, type TestServer } from "./harness";

const DAY = 86_400_000;
const tmp = tempDir();
let t: TestServer;
/** Runs whose input says HOLD wait in their first model call until this is released. */
let release!: () => void;
const held = new Promise<void>((resolve) => (release = resolve));
let clients: Record<"viewer" | "operator" | "admin", ReturnType<typeof clientsWith>>;

beforeAll(async () => {
  const model = new FnModel(async (request) => {
    if (lastUserText(request).includes("HOLD")) await held;
    return { text: `answer to ${lastUserText(request).slice(0, 30)}` };
  });
  t = await startTestServer({ dbUrl: tmp.dbUrl, modelProvider: fnProvider(model), auth: { mode: "keys" }, retention: { days: 1, intervalMs: 3_600_000 } });
  const entries = await Promise.all((["viewer", "operator", "admin"] as const).map(async (role) => [role, clientsWith(t.server.url, `Bearer ${(await t.services.keys.create(`${role}-key`, role)).key}`)] as const));
  clients = Object.fromEntries(entries) as typeof clients;
}, 120_000);
afterAll(async () => {
  release();
  for (const c of Object.values(clients ?? {})) await c.wsClient.close();
  await t?.close();
  await tmp.remove();
});

const api = (role: keyof typeof clients) => clients[role].typedSse;

/** A run that stays `running` until `release()`. */
async function heldRun(): Promise<{ id: string; done: Promise<unknown> }> {
  const done = api("operator").workflows.run.mutate({ key: "analysis_code", input: `HOLD ${Math.random()}` }).catch(() => undefined);
  let id = "";
  await waitFor(async () => {
    const page = await api("viewer").runs.list.query({ status: "running" });
    id = page.items[0]?.id ?? "";
    return id !== "";
  }, 60_000);
  return { id, done };
}

describe("runs.delete", () => {
  it("lets an admin delete a finished run with its steps, events and spans, and says how many went", async () => {
    const run = await api("operator").workflows.run.mutate({ key: "analysis_code", input: "mean of 1, 2, 3" });
    expect(run.status).toBe("succeeded");
    const id = run.workflowRunId;
    const { steps, spans } = await api("viewer").runs.get.query({ workflowRunId: id });

    for (const role of ["viewer", "operator"] as const) {
      await expect(api(role).runs.delete.mutate({ workflowRunId: id })).rejects.toMatchObject({ data: { code: "FORBIDDEN" } });
    }
    expect((await api("viewer").runs.get.query({ workflowRunId: id })).run.status).toBe("succeeded");

    const result = await api("admin").runs.delete.mutate({ workflowRunId: id });
    expect(result).toEqual({ workflowRunId: id, deleted: { runs: 1, steps: steps.length, events: expect.any(Number) as number, spans: spans.length } });
    expect(result.deleted.events).toBeGreaterThanOrEqual(4);
    await expect(api("viewer").runs.get.query({ workflowRunId: id })).rejects.toMatchObject({ data: { code: "NOT_FOUND" } });
    expect((await api("viewer").runs.list.query({})).items.map((r) => r.id)).not.toContain(id);
    await expect(api("admin").runs.delete.mutate({ workflowRunId: id })).rejects.toMatchObject({ data: { code: "NOT_FOUND" } });
  });

  it("refuses a run that has not finished with CONFLICT, and keeps it", async () => {
    const { id } = await heldRun();
    await expect(api("admin").runs.delete.mutate({ workflowRunId: id })).rejects.toMatchObject({ data: { code: "CONFLICT" }, message: expect.stringContaining("running") as string });
    expect((await api("viewer").runs.get.query({ workflowRunId: id })).run.status).toBe("running");
  });
});

describe("RUN_RETENTION_DAYS", () => {
  it("the sweep deletes runs finished longer ago than the retention period, never unfinished ones", async () => {
    const finished = await api("operator").workflows.run.mutate({ key: "analysis_code", input: "median of 4, 8, 15" });
    const { id: running } = await heldRun();

    // Today every run is younger than a day: nothing goes.
    expect((await t.services.retention!.sweep()).deleted.runs).toBe(0);
    expect((await api("viewer").runs.get.query({ workflowRunId: finished.workflowRunId })).run.status).toBe("succeeded");

    // Two days from now the finished runs are past the period; the running one stays.
    const result = await t.services.retention!.sweep(new Date(Date.now() + 2 * DAY));
    expect(result.deleted.runs).toBeGreaterThanOrEqual(1);
    await expect(api("viewer").runs.get.query({ workflowRunId: finished.workflowRunId })).rejects.toMatchObject({ data: { code: "NOT_FOUND" } });
    const left = (await api("viewer").runs.list.query({})).items;
    expect(left.map((r) => r.id)).toContain(running);
    expect(left.every((r) => r.status === "running" || r.status === "pending")).toBe(true);
    expect((await api("viewer").runs.get.query({ workflowRunId: running })).run.status).toBe("running");
  });
});
