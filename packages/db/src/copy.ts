// `pnpm db:copy`: moves an existing database's runs (with their steps, events, trace spans, packs and approvals) and chat
// history into another database, typically from the embedded SQLite file to PostgreSQL.
import type { PrismaClient } from "./client";
import { openDatabase } from "./database";
import { insertChunks, insertConversationItems, insertRuns, insertSpans, insertSteps } from "./sql";
import { describeLocation, resolveDatabaseUrl } from "./url";

/**
 * `chunks`: a live run's event chunks (one row per recorder batch); `spans`: span rows; `packs`: a finished run's
 * events and spans in one row each (runPacks.ts). Chunks and packs are copied as they are.
 */
export type CopyCounts = { runs: number; steps: number; chunks: number; packs: number; spans: number; approvals: number; conversationItems: number };
export type CopyResult = { copied: CopyCounts; source: CopyCounts; target: CopyCounts };

/** Runs per transaction: each page is copied whole (its runs with all their rows) or not at all. */
const PAGE = 200;

async function counts(prisma: PrismaClient): Promise<CopyCounts> {
  const [runs, steps, chunks, packs, spans, approvals, conversationItems] = await Promise.all([
    prisma.workflowRun.count(),
    prisma.workflowRunStep.count(),
    prisma.workflowRunEventChunk.count(),
    prisma.workflowRunPack.count(),
    prisma.traceSpan.count(),
    prisma.workflowRunApproval.count(),
    prisma.conversationItem.count(),
  ]);
  return { runs, steps, chunks, packs, spans, approvals, conversationItems };
}

/**
 * Copies every run, step, event, span and conversation item of `from` into `to` (migrated first). The target
 * must hold no runs or conversation items yet: a copy is a move to a fresh database, not a merge. Checks the
 * counts at the end and throws when they differ.
 */
export async function copyDatabase(opts: { from: string; to: string; log?: (line: string) => void }): Promise<CopyResult> {
  const log = opts.log ?? (() => undefined);
  const [fromLocation, toLocation] = [resolveDatabaseUrl(opts.from), resolveDatabaseUrl(opts.to)];
  if (describeLocation(fromLocation) === describeLocation(toLocation)) throw new Error("--from and --to name the same database.");
  const source = await openDatabase({ url: opts.from });
  try {
    const target = await openDatabase({ url: opts.to });
    try {
      const before = await counts(target.prisma);
      if (before.runs > 0 || before.conversationItems > 0) {
        throw new Error(`${describeLocation(toLocation)} already holds ${before.runs} run(s) and ${before.conversationItems} conversation item(s); copy into an empty database.`);
      }
      const copied: CopyCounts = { runs: 0, steps: 0, chunks: 0, packs: 0, spans: 0, approvals: 0, conversationItems: 0 };
      let cursor: string | undefined;
      for (;;) {
        const runs = await source.prisma.workflowRun.findMany({ orderBy: { id: "asc" }, take: PAGE, ...(cursor === undefined ? {} : { cursor: { id: cursor }, skip: 1 }) });
        if (runs.length === 0) break;
        cursor = runs.at(-1)!.id;
        const ids = runs.map((r) => r.id);
        const [steps, chunks, runPacks, spans, approvals] = await Promise.all([
          source.prisma.workflowRunStep.findMany({ where: { runId: { in: ids } }, orderBy: [{ runId: "asc" }, { index: "asc" }] }),
          source.prisma.workflowRunEventChunk.findMany({ where: { runId: { in: ids } }, orderBy: [{ runId: "asc" }, { lastSeq: "asc" }] }),
          source.prisma.workflowRunPack.findMany({ where: { runId: { in: ids } } }),
          source.prisma.traceSpan.findMany({ where: { runId: { in: ids } }, orderBy: { id: "asc" } }),
          source.prisma.workflowRunApproval.findMany({ where: { runId: { in: ids } } }),
        ]);
        const statements = [
          ...insertRuns(runs),
          ...(steps.length > 0 ? insertSteps(steps) : []),
          ...(chunks.length > 0 ? insertChunks(chunks) : []),
          ...(spans.length > 0 ? insertSpans(spans.map(({ id: _id, ...span }) => span)) : []),
        ];
        await target.prisma.$transaction([
          ...statements.map((sql) => target.prisma.$executeRaw(sql)),
          ...(runPacks.length > 0 ? [target.prisma.workflowRunPack.createMany({ data: runPacks })] : []),
          ...(approvals.length > 0 ? [target.prisma.workflowRunApproval.createMany({ data: approvals })] : []),
        ]);
        copied.runs += runs.length;
        copied.steps += steps.length;
        copied.chunks += chunks.length;
        copied.packs += runPacks.length;
        copied.spans += spans.length;
        copied.approvals += approvals.length;
        log(`  ${copied.runs} runs, ${copied.chunks} event chunks, ${copied.packs} packs…`);
      }
      let lastItem: number | undefined;
      for (;;) {
        const items = await source.prisma.conversationItem.findMany({ orderBy: { id: "asc" }, take: 1_000, ...(lastItem === undefined ? {} : { where: { id: { gt: lastItem } } }) });
        if (items.length === 0) break;
        lastItem = items.at(-1)!.id;
        await target.prisma.$transaction(insertConversationItems(items.map(({ id: _id, ...item }) => item)).map((sql) => target.prisma.$executeRaw(sql)));
        copied.conversationItems += items.length;
      }
      const result = { copied, source: await counts(source.prisma), target: await counts(target.prisma) };
      const differ = (Object.keys(result.source) as (keyof CopyCounts)[]).filter((k) => result.source[k] !== result.target[k]);
      if (differ.length > 0) throw new Error(`Counts differ after the copy (${differ.map((k) => `${k}: ${result.source[k]} vs ${result.target[k]}`).join(", ")}); was the source written to meanwhile?`);
      return result;
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}
