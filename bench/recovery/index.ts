/**
 * Recovery after a crash: 100 runs of analysis_code left `running` after their first step by a server
 * that died (its instance never heart-beats again). A new server starts on the same SQLite file; we
 * measure from the start of `createServices` until
 *   - start-up is done (the sweep handed every orphaned run to the runner),
 *   - every run is running again (its `run.resumed` is stored),
 *   - every run has succeeded.
 * With the default MAX_CONCURRENT_RUNS (16) and with 100 slots. Offline model, no delay.
 * Prints numbers; never asserts timings.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createLogger, createServices } from "@workflows/api";
import { WorkflowRegistry, discoverWorkflows, type WorkflowEvent } from "@workflows/core";
import { createDefaultCatalog, defaultModelName } from "@workflows/agents";
import { openDatabase, PrismaRunRecorder } from "@workflows/db";
import { fmt } from "../lib/stats";

const RUNS = 100;
const dir = mkdtempSync(path.join(tmpdir(), "wf-bench-recovery-"));

async function seed(dbUrl: string): Promise<void> {
  const registry = WorkflowRegistry.create({ workflows: await discoverWorkflows(), catalog: createDefaultCatalog({ defaultModel: defaultModelName({ provider: "offline" }) }) });
  const versionHash = registry.require("analysis_code").versionHash;
  const db = await openDatabase({ url: dbUrl });
  const recorder = new PrismaRunRecorder(db.prisma, { owner: "dead-instance" });
  const input = "Analyse 120, 135, 128, 410, 131 and write a function that flags outliers.";
  await Promise.all(
    Array.from({ length: RUNS }, async (_, i) => {
      const id = `orphan-${i}`;
      const base = { workflowRunId: id, workflowKey: "analysis_code", at: new Date().toISOString() };
      await recorder.createRun({ id, workflowKey: "analysis_code", versionHash, input });
      const log: WorkflowEvent[] = [
        { ...base, seq: 1, type: "run.started", input, versionHash, steps: [{ name: "analyse", agentKey: "data_analyst" }, { name: "write_code", agentKey: "code_assistant" }] },
        { ...base, seq: 2, type: "step.started", stepIndex: 0, stepName: "analyse", agentKey: "data_analyst", input, attempt: 1 },
        { ...base, seq: 3, type: "step.completed", stepIndex: 0, stepName: "analyse", agentKey: "data_analyst", output: "mean 224.8", structuredOutput: null, usage: { requests: 2, inputTokens: 10, outputTokens: 5, totalTokens: 15 }, responseId: null, durationMs: 1 },
        { ...base, seq: 4, type: "step.started", stepIndex: 1, stepName: "write_code", agentKey: "code_assistant", input: "x", attempt: 1 },
      ];
      for (const event of log) await recorder.append(event);
    }),
  );
  await recorder.close();
  await db.close();
}

async function measure(maxConcurrentRuns: number): Promise<void> {
  const dbUrl = `file:${path.join(dir, `recovery-${maxConcurrentRuns}.db`)}`;
  await seed(dbUrl);
  const t0 = performance.now();
  const services = await createServices({
    logger: createLogger({ level: "silent" }),
    databaseUrl: dbUrl,
    model: { provider: "offline" },
    maxInputBytes: 64 * 1024,
    shutdownGraceMs: 1_000,
    durability: { maxConcurrentRuns },
  });
  const startedUp = performance.now() - t0;
  // "Running again" = its run.resumed (seq 5) is stored; watched through the recorder's notifications, not by polling.
  const resumedAt = new Map<string, number>();
  let allRunning = Number.NaN;
  let markAll: () => void = () => undefined;
  const everyoneRunning = new Promise<void>((resolve) => (markAll = resolve));
  const note = (id: string, lastSeq: number) => {
    if (lastSeq < 5 || resumedAt.has(id)) return;
    resumedAt.set(id, performance.now() - t0);
    if (resumedAt.size === RUNS) {
      allRunning = Math.max(...resumedAt.values());
      markAll();
    }
  };
  const unsubscribe = services.runs.onStored(note);
  // Those stored before we subscribed.
  for (let i = 0; i < RUNS; i++) {
    const id = `orphan-${i}`;
    const stored = await services.runs.getRun(id);
    if (stored) note(id, stored.run.lastSeq);
  }
  await everyoneRunning;
  await services.activeRuns.drain(600_000);
  const allDone = performance.now() - t0;
  unsubscribe();
  const runs = await Promise.all(Array.from({ length: RUNS }, (_, i) => services.runs.getRun(`orphan-${i}`)));
  const failed = runs.filter((r) => r?.run.status !== "succeeded");
  if (failed.length > 0) throw new Error(`${failed.length} runs did not succeed: ${JSON.stringify(failed[0]?.run.error)}`);
  await services.close();
  console.log(`MAX_CONCURRENT_RUNS=${String(maxConcurrentRuns).padEnd(4)} start-up done ${fmt(startedUp, 0).padStart(6)} ms | all ${RUNS} running again ${fmt(allRunning, 0).padStart(6)} ms | all succeeded ${fmt(allDone, 0).padStart(6)} ms`);
}

try {
  console.log(`recovery: ${RUNS} runs left running by a dead server, restart on the same SQLite file (offline model)`);
  await measure(16);
  await measure(RUNS);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
