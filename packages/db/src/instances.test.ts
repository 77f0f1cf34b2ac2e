import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { newRun } from "../test/fixtures";
import { createTestDatabase, type TestDatabase } from "../test/databases";
import { openDatabase, type Database } from "./database";
import { ServerInstances } from "./instances";
import { PrismaRunRecorder } from "./recorder";

let testDb: TestDatabase;
let db: Database;

beforeEach(async () => {
  testDb = await createTestDatabase();
  db = await openDatabase({ url: testDb.url });
});
afterEach(async () => {
  await db.close();
  await testDb.drop();
});

const t0 = new Date("2026-11-28T10:00:00Z");
const later = (ms: number) => new Date(t0.getTime() + ms);

/** A server on `host` with `pid`, and a run it owns. */
async function serverWithRun(runId: string, opts: { host: string; pid: number; id?: string }) {
  const server = new ServerInstances(db.prisma, { ...opts, pidAlive: (pid) => pid !== 404 });
  await server.register(t0);
  const recorder = new PrismaRunRecorder(db.prisma, { owner: server.id });
  await recorder.createRun(newRun(runId));
  await recorder.close();
  return server;
}

describe("ServerInstances", () => {
  it("finds runs whose owner stopped heart-beating, not those of live owners", async () => {
    const me = new ServerInstances(db.prisma, { host: "here", pid: 1, staleAfterMs: 30_000, pidAlive: () => true });
    await me.register(t0);
    const other = await serverWithRun("theirs", { host: "there", pid: 7 });
    expect(await me.orphanedRuns(later(10_000))).toEqual([]);
    await other.heartbeat(later(20_000));
    expect(await me.orphanedRuns(later(45_000))).toEqual([]);
    expect(await me.orphanedRuns(later(51_000))).toEqual(["theirs"]);
    // The same rule for one run (a queued job redelivered after its worker stopped):
    expect(await me.isOrphaned("theirs", later(45_000))).toBe(false);
    expect(await me.isOrphaned("theirs", later(51_000))).toBe(true);
    expect(await me.isOrphaned("no-such-run", later(51_000))).toBe(false);
  });

  it("on its own host, counts an owner dead at once when its process is gone", async () => {
    const me = new ServerInstances(db.prisma, { host: "box", pid: 100, pidAlive: (pid) => pid !== 404 });
    await me.register(t0);
    await serverWithRun("alive", { host: "box", pid: 200 });
    await serverWithRun("crashed", { host: "box", pid: 404 });
    expect(await me.orphanedRuns(later(1_000))).toEqual(["crashed"]);
  });

  it("counts an owner with this process's pid under another id dead at once (a restarted container, node as PID 1)", async () => {
    await serverWithRun("before-restart", { host: "container", pid: 1, id: "old-instance" });
    const me = new ServerInstances(db.prisma, { host: "container", pid: 1, id: "new-instance", pidAlive: () => true });
    await me.register(later(500));
    expect(await me.orphanedRuns(later(1_000))).toEqual(["before-restart"]);
  });

  it("counts runs without a known owner as orphaned (stopped cleanly, or written before instances existed), never its own", async () => {
    const me = new ServerInstances(db.prisma, { host: "h", pid: 1, pidAlive: () => true });
    await me.register(t0);
    const gone = await serverWithRun("deregistered", { host: "elsewhere", pid: 9 });
    await gone.deregister();
    await new PrismaRunRecorder(db.prisma, { owner: "h:1234" }).createRun(newRun("legacy"));
    await new PrismaRunRecorder(db.prisma, { owner: me.id }).createRun(newRun("mine"));
    expect((await me.orphanedRuns(later(1_000))).sort()).toEqual(["deregistered", "legacy"]);
  });
});
