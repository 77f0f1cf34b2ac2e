// `pnpm db:prune --older-than <days> [--dry-run]`: deletes runs that finished more than <days> days ago, with
// their steps, events and spans, straight on DATABASE_URL (created and migrated if needed), in small batches.
// Safe beside running servers; RUN_RETENTION_DAYS makes the server do the same on its own.
import { parseArgs } from "node:util";
import { openDatabase, pruneRuns } from "@workflows/db";
import { EnvError, loadEnv } from "../env";

const usage = `Usage: pnpm db:prune --older-than <days> [--dry-run]
  deletes runs that finished (succeeded, failed, cancelled, interrupted) more than <days> days ago;
  --dry-run counts them and deletes nothing`;

class UsageError extends Error {}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { "older-than": { type: "string" }, "dry-run": { type: "boolean", default: false }, "batch-size": { type: "string" } } });
  const days = Number(values["older-than"]);
  if (values["older-than"] === undefined || values["older-than"].trim() === "" || !Number.isFinite(days) || days < 0) throw new UsageError(usage);
  const batchSize = values["batch-size"] === undefined ? undefined : Number(values["batch-size"]);
  if (batchSize !== undefined && !(Number.isInteger(batchSize) && batchSize > 0)) throw new UsageError(usage);
  const db = await openDatabase({ url: loadEnv().databaseUrl ?? null });
  try {
    const before = new Date(Date.now() - days * 86_400_000);
    const result = await pruneRuns(db, { before, dryRun: values["dry-run"], ...(batchSize ? { batchSize } : {}) });
    const d = result.deleted;
    const what = `${d.runs} run(s), ${d.steps} step(s), ${d.events} event(s), ${d.spans} span(s)`;
    process.stdout.write(result.dryRun ? `Dry run on ${db.url}: would delete ${what} finished before ${before.toISOString()}.\n` : `Deleted ${what} finished before ${before.toISOString()} from ${db.url} (${result.batches} batch(es)).\n`);
  } finally {
    await db.close();
  }
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (error: unknown) => {
    if (error instanceof UsageError || error instanceof EnvError) process.stderr.write(`${error.message}\n`);
    else if (error instanceof TypeError && "code" in error && String(error.code).startsWith("ERR_PARSE_ARGS")) process.stderr.write(`${error.message}\n${usage}\n`);
    else process.stderr.write(`prune failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
