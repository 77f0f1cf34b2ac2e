import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../test/databases";
import { newRun, succeededRun } from "../test/fixtures";
import { openDatabase, type Database } from "./database";
import { PgNotifications, parseStored, storedNotifications } from "./notifications";
import { PrismaRunRecorder } from "./recorder";

let testDb: TestDatabase;
let a: Database;
const listeners: PgNotifications[] = [];

beforeEach(async () => {
  testDb = await createTestDatabase("postgres");
  a = await openDatabase({ url: testDb.url });
});
afterEach(async () => {
  for (const l of listeners.splice(0)) await l.close();
  await a.close();
  await testDb.drop();
});

async function listener(instanceId: string): Promise<PgNotifications> {
  const n = new PgNotifications({ url: testDb.url, instanceId });
  await n.start();
  listeners.push(n);
  return n;
}

function until<T>(predicate: () => T | undefined, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + 20_000;
    const tick = () => {
      const value = predicate();
      if (value !== undefined) resolve(value);
      else if (Date.now() > deadline) reject(new Error(`no ${what} in time`));
      else setTimeout(tick, 10);
    };
    tick();
  });
}

describe("LISTEN/NOTIFY between instances", () => {
  it("another instance hears each commit of a recorder that announces, with the run's new lastSeq; the sender does not hear itself", async () => {
    const other = await listener("instance-b");
    const self = await listener("instance-a");
    const heard: string[] = [];
    const heardBySelf: string[] = [];
    other.onStored((id, seq) => heard.push(`${id}:${seq}`));
    self.onStored((id, seq) => heardBySelf.push(`${id}:${seq}`));
    const recorder = new PrismaRunRecorder(a.prisma, { announceAs: "instance-a" });
    const input = newRun("announced");
    await recorder.createRun(input);
    const events = succeededRun(input, 2, 1);
    for (const event of events) await recorder.append(event);
    await recorder.close();
    await until(() => (heard.at(-1) === `announced:${events.length}` ? true : undefined), "last notification");
    // One notification per committed batch, in commit order; each lastSeq is stored when it arrives.
    expect(heard).toEqual(events.map((e) => `announced:${e.seq}`));
    expect(heardBySelf).toEqual([]);
  });

  it("carries cancel requests to every instance", async () => {
    const executor = await listener("executor");
    const received: string[] = [];
    executor.onCancel((id, by) => received.push(`${id} by ${by}`));
    await executor.requestCancel(a.pool!, "run-7", "ops-key");
    expect(await until(() => received[0], "cancel request")).toBe("run-7 by ops-key");
  });

  it("spreads a large batch's runs over several payloads under PostgreSQL's 8,000-byte limit", () => {
    const runs = new Map(Array.from({ length: 500 }, (_, i) => [`run-${"x".repeat(40)}-${i}`, i + 1] as const));
    const statements = storedNotifications("sender", runs);
    expect(statements.length).toBeGreaterThan(1);
    const parsed = statements.map((s) => parseStored(s.values[1] as string)!);
    for (const s of statements) expect((s.values[1] as string).length).toBeLessThan(8_000);
    expect(parsed.flatMap((p) => p.runs.map((r) => [r.workflowRunId, r.lastSeq]))).toEqual([...runs]);
    expect(new Set(parsed.map((p) => p.sender))).toEqual(new Set(["sender"]));
  });
});
