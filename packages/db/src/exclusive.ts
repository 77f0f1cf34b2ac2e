import type { PrismaClient } from "./generated/client";

const tails = new WeakMap<PrismaClient, Promise<unknown>>();

/**
 * Runs `work` when every earlier exclusive work on the same client has settled.
 *
 * Why: the better-sqlite3 adapter has one connection. Its mutex orders transactions against each other,
 * but a plain query issued while an interactive transaction is open runs INSIDE that transaction and is
 * rolled back with it (measured). Everything in this package that touches the database goes through here.
 */
export function exclusive<T>(prisma: PrismaClient, work: () => Promise<T>): Promise<T> {
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
