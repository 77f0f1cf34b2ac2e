import type { PrismaClient } from "./client";

const tails = new WeakMap<PrismaClient, Promise<unknown>>();
const concurrent = new WeakSet<PrismaClient>();

/**
 * Runs `work` when every earlier exclusive work on the same client has settled.
 *
 * Why: the better-sqlite3 adapter has one connection. Its mutex orders transactions against each other,
 * but a plain query issued while an interactive transaction is open runs INSIDE that transaction and is
 * rolled back with it (measured). Everything in this package that uses that connection goes through here.
 * On a database opened by `openDatabase`, the recorder's writes and the run reads of queries.ts do not use
 * it: they have connections of their own (sqliteConnections.ts) and never wait here. A client on a
 * connection pool (PostgreSQL) has no such trap: its work starts at once.
 */
export function exclusive<T>(prisma: PrismaClient, work: () => Promise<T>): Promise<T> {
  if (concurrent.has(prisma)) return work();
  const previous = tails.get(prisma) ?? Promise.resolve();
  const result = previous.then(work, work);
  tails.set(
    prisma,
    result.then(
      () => undefined,
      () => undefined,
    ),
  );
  return result;
}

/** Marks a client whose queries may run side by side (each transaction gets its own pooled connection). */
export function allowConcurrentWork(prisma: PrismaClient): void {
  concurrent.add(prisma);
}
