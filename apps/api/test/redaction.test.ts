import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { defineWorkflow } from "@workflows/core";
import { FnModel, fnProvider, lastUserText } from "@workflows/core/testing";
import { listEvents, listSpans, openDatabase } from "@workflows/db";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createLogger } from "../src/logger";
import { Redactor } from "../src/redaction/redactor";
import { collect, isEnd, startTestServer, tempDir, type TestServer } from "./harness";

const rand = (n: number) => randomBytes(n).toString("base64url").replace(/[-_]/g, "x");
const secrets = {
  openai: `sk-proj-${rand(30)}`,
  apiKey: `wfk_${rand(32)}`,
  bearer: `Zb${rand(24)}`,
  aws: `AKIA${randomBytes(8).toString("hex").toUpperCase()}`,
  pem: `-----BEGIN PRIVATE KEY-----\nMII${rand(40)}\n${rand(40)}\n-----END PRIVATE KEY-----`,
  custom: `corp-secret-${100000 + Math.floor(Math.random() * 899999)}`,
};
const text = `Deploy with ${secrets.openai} and ${secrets.apiKey}; header Authorization: Bearer ${secrets.bearer}; aws ${secrets.aws}; key:\n${secrets.pem}\nticket ${secrets.custom}.`;
/** What must not be found in the database: each secret, and its distinctive middle part. */
const needles = Object.values(secrets).flatMap((s) => [s, s.slice(6, 22)]);

/** Two steps: the second gets the first one's output, so secrets pass through step inputs and outputs too. */
const echo = defineWorkflow({
  key: "echo",
  displayName: "Echo",
  description: "two writer steps",
  steps: [
    { name: "first", agentKey: "writer" },
    { name: "second", agentKey: "writer" },
  ],
});

describe("redaction of what is stored", () => {
  let t: TestServer;
  const tmp = tempDir();
  // The model repeats what it is given in one delta: secrets come back in deltas, outputs and items.
  const model = new FnModel((request) => ({ text: `You said: ${lastUserText(request)}` }), { chunkSize: 100_000 });
  beforeAll(async () => {
    t = await startTestServer({ dbUrl: tmp.dbUrl, modelProvider: fnProvider(model), workflows: [echo], redactor: new Redactor(["corp-secret-[0-9]{6}"]) });
  }, 60_000);
  afterAll(() => tmp.remove());

  it("stores no secret in any table (run input, steps, events with deltas and items, spans, chat history) while the model got them all", async () => {
    const events = await collect(t.sse.workflows.runStream.subscribe({ key: "echo", input: text }), { until: isEnd, timeoutMs: 60_000 });
    const runId = events[0]?.data.workflowRunId ?? "";
    expect(events.at(-1)?.data.type).toBe("run.completed");
    const reply = await t.sse.chat.send.mutate({ message: text, agentKey: "writer", conversationId: "c-1" });
    expect(reply.output).toContain(secrets.openai);
    await t.sse.chat.send.mutate({ message: "and again", agentKey: "writer", conversationId: "c-1" });

    // The model received what the caller sent, secrets included.
    for (const secret of Object.values(secrets)) expect(model.requests.some((r) => JSON.stringify(r.input).includes(JSON.stringify(secret).slice(1, -1)))).toBe(true);
    // What the API shows comes from the database: redacted.
    const shown = await t.sse.runs.get.query({ workflowRunId: runId });
    expect(shown.run.input).toContain("[REDACTED]");
    expect(JSON.stringify(shown)).not.toContain(secrets.openai);
    await t.close();

    const db = await openDatabase({ url: tmp.dbUrl });
    try {
      const run = await db.prisma.workflowRun.findUniqueOrThrow({ where: { id: runId }, include: { steps: true } });
      // The finished run's events and spans are packed (compressed: a byte scan alone would prove nothing): read them back.
      const stored = await listEvents(db.prisma, runId);
      const spans = await listSpans(db.prisma, runId);
      const items = await db.prisma.conversationItem.findMany({ where: { conversationId: "c-1" } });
      expect(run.input).toContain("[REDACTED]");
      expect(run.finalOutput).toContain("[REDACTED]");
      for (const step of run.steps) expect(`${step.input} ${step.output}`).toMatch(/\[REDACTED\][\s\S]*\[REDACTED\]/);
      const deltas = stored.filter((e) => e.type === "step.delta");
      expect(deltas.length).toBeGreaterThan(0);
      expect(deltas.every((e) => e.delta.includes("[REDACTED]"))).toBe(true);
      expect(spans.length).toBeGreaterThan(0);
      expect(items.some((i) => i.item.includes("[REDACTED]"))).toBe(true);
      const everything = JSON.stringify({ run, stored, spans, items });
      for (const needle of needles) expect(everything).not.toContain(needle);
    } finally {
      await db.close();
    }
    // And byte for byte, whatever the table or index: the SQLite file and its journal (PostgreSQL: the tables above).
    for (const file of tmp.dir === null ? [] : readdirSync(tmp.dir)) {
      const bytes = readFileSync(path.join(tmp.dir!, file)).toString("latin1");
      for (const needle of needles) expect(bytes, `${needle} in ${file}`).not.toContain(needle);
    }
  });
});

describe("redaction of logs", () => {
  it("writes no secret to a log line", () => {
    const lines: string[] = [];
    const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    try {
      const logger = createLogger({ level: "info", redactor: new Redactor(["corp-secret-[0-9]{6}"]) });
      logger.info({ input: text, err: new Error(`failed for ${secrets.openai}`) }, `request with ${secrets.bearer}`);
    } finally {
      spy.mockRestore();
    }
    const out = lines.join("");
    expect(out).toContain("[REDACTED]");
    for (const secret of [secrets.openai, secrets.apiKey, secrets.aws, secrets.custom, secrets.pem.slice(30, 60)]) expect(out).not.toContain(secret);
  });
});
