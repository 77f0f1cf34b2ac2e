import { afterEach, beforeEach, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../test/databases";
import { PgBossRunQueue } from "./queue";

let testDb: TestDatabase;
let queue: PgBossRunQueue;
beforeEach(async () => {
  testDb = await createTestDatabase("postgres");
  // A poll far longer than the test may take: only the freed slot's own look can find the next jobs.
  queue = new PgBossRunQueue({ url: testDb.url, pollSeconds: 600 });
  await queue.start();
});
afterEach(async () => {
  await queue.stop(1_000);
  await testDb.drop();
});

it("a slot that frees up takes the next waiting job at once, not at its next poll", { timeout: 60_000 }, async () => {
  // Queued before any slot works: no NOTIFY comes while the slot is busy to wake it.
  const ids = ["run-1", "run-2", "run-3", "run-4"];
  for (const id of ids) await queue.enqueue(id);
  const started: string[] = [];
  const all = new Promise<void>((resolve) => {
    void queue.work(1, (id) => {
      started.push(id);
      if (started.length === ids.length) resolve();
      return Promise.resolve();
    });
  });
  await all;
  expect(started.sort()).toEqual(ids);
});
