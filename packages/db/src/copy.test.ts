import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../test/databases";
import { cancelledRun, failedRun, newRun, succeededRun } from "../test/fixtures";
import { copyDatabase } from "./copy";
import { openDatabase } from "./database";
import { getRun, listEvents, listSpans } from "./queries";
import { PrismaRunRecorder } from "./recorder";
import { PrismaSession } from "./session";

let from: TestDatabase;
let to: TestDatabase;
beforeEach(async () => {
  // From the embedded kind to the suite's kind: SQLite to SQLite, or SQLite to PostgreSQL.
  from = await createTestDatabase("sqlite");
  to = await createTestDatabase();
});
afterEach(async () => {
  await from.drop();
  await to.drop();
});

describe("copyDatabase (pnpm db:copy)", () => {
  it("moves runs, steps, events, spans and chat history into an empty database, identical when read back", { timeout: 180_000 }, async () => {
    const source = await openDatabase({ url: from.url });
    const recorder = new PrismaRunRecorder(source.prisma);
    const ids: string[] = [];
    // More runs than one page of the copy (200).
    for (let i = 0; i < 250; i++) {
      // run-249 is a sub-workflow run of run-1: its parent columns are copied too.
      const run = newRun(`run-${i}`, { idempotencyKey: `key-${i}`, ...(i === 249 ? { parentRunId: "run-1", parentStepIndex: 2 } : {}) });
      ids.push(run.id);
      await recorder.createRun(run);
      const events = i % 3 === 0 ? failedRun(run) : i % 3 === 1 ? cancelledRun(run) : succeededRun(run, 2, 1);
      // Appended together: the recorder writes them in order, in few transactions.
      await Promise.all(events.map((e) => recorder.append(e)));
      if (i % 50 === 0) await recorder.recordSpan({ workflowRunId: run.id, stepIndex: 0, traceId: "t", spanId: `s${i}`, parentId: null, kind: "generation", name: "gen", startedAt: null, endedAt: null, error: null, data: { i } });
    }
    await recorder.close();
    await new PrismaSession(source.prisma, "conv").addItems([{ role: "user", content: "hello" }, { role: "user", content: "again" }]);
    const expected = await Promise.all(["run-0", "run-1", "run-249"].map(async (id) => ({ run: await getRun(source.prisma, id), events: await listEvents(source.prisma, id), spans: await listSpans(source.prisma, id) })));
    await source.close();

    const result = await copyDatabase({ from: from.url, to: to.url });
    expect(result.copied).toMatchObject({ runs: 250, spans: 5, conversationItems: 2 });
    expect(result.target).toEqual(result.source);

    const target = await openDatabase({ url: to.url });
    try {
      const actual = await Promise.all(["run-0", "run-1", "run-249"].map(async (id) => ({ run: await getRun(target.prisma, id), events: await listEvents(target.prisma, id), spans: await listSpans(target.prisma, id) })));
      expect(actual).toEqual(expected);
      expect(actual[2]?.run?.run).toMatchObject({ parentRunId: "run-1", parentStepIndex: 2 });
      expect(await new PrismaSession(target.prisma, "conv").getItems()).toEqual([{ role: "user", content: "hello" }, { role: "user", content: "again" }]);
    } finally {
      await target.close();
    }
    // A second copy would merge: refused.
    await expect(copyDatabase({ from: from.url, to: to.url })).rejects.toThrow(/already holds 250 run/);
  });
});
