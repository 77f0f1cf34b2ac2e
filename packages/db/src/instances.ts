import { randomUUID } from "node:crypto";
import os from "node:os";
import { exclusive } from "./exclusive";
import type { PrismaClient } from "./client";

export type ServerInstancesOptions = {
  /** Default: a random id for this process. */
  id?: string;
  /** An owner whose heartbeat is older than this is dead. Default 20 s. */
  staleAfterMs?: number;
  host?: string;
  pid?: number;
  /** Whether a process of this host runs (default: `process.kill(pid, 0)`). */
  pidAlive?: (pid: number) => boolean;
};

type InstanceRow = { id: string; host: string; pid: number; heartbeatAt: Date };

/** Instances registered by this very process (tests and benchmarks run several): alive while registered. */
const inThisProcess = new Set<string>();

/**
 * This server's row among the running servers, and the liveness rule for the owners of runs. An owner is
 * dead when no row has its id (it stopped cleanly, or the run predates instances), when its heartbeat is
 * older than `staleAfterMs`, or at once when it was on this host and its process is gone, or its pid is
 * now this process under another id (a container restarted with node as PID 1).
 */
export class ServerInstances {
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  readonly staleAfterMs: number;
  readonly #prisma: PrismaClient;
  readonly #pidAlive: (pid: number) => boolean;

  constructor(prisma: PrismaClient, options: ServerInstancesOptions = {}) {
    this.#prisma = prisma;
    this.id = options.id ?? randomUUID();
    this.host = options.host ?? os.hostname();
    this.pid = options.pid ?? process.pid;
    this.staleAfterMs = options.staleAfterMs ?? 20_000;
    this.#pidAlive = options.pidAlive ?? processAlive;
  }

  /** Adds this server's row (and drops rows of servers silent for a day). */
  async register(now: Date = new Date()): Promise<void> {
    await exclusive(this.#prisma, async () => {
      await this.#prisma.serverInstance.deleteMany({ where: { heartbeatAt: { lt: new Date(now.getTime() - 86_400_000) } } });
      await this.#prisma.serverInstance.upsert({
        where: { id: this.id },
        create: { id: this.id, host: this.host, pid: this.pid, startedAt: now, heartbeatAt: now },
        update: { heartbeatAt: now },
      });
    });
    inThisProcess.add(this.id);
  }

  async heartbeat(now: Date = new Date()): Promise<void> {
    await exclusive(this.#prisma, () => this.#prisma.serverInstance.upsert({
      where: { id: this.id },
      create: { id: this.id, host: this.host, pid: this.pid, startedAt: now, heartbeatAt: now },
      update: { heartbeatAt: now },
    }));
  }

  /** Removes this server's row: its runs count as orphaned at once. */
  async deregister(): Promise<void> {
    inThisProcess.delete(this.id);
    await exclusive(this.#prisma, () => this.#prisma.serverInstance.deleteMany({ where: { id: this.id } }));
  }

  /**
   * Ids of runs still `pending` or `running` whose owner is dead, oldest first. Sub-workflow runs are not
   * among them: their parent is their only driver, and the parent's resume continues them.
   */
  async orphanedRuns(now: Date = new Date()): Promise<string[]> {
    return exclusive(this.#prisma, async () => {
      const runs = await this.#prisma.workflowRun.findMany({
        where: { status: { in: ["pending", "running"] }, parentRunId: null, OR: [{ owner: null }, { owner: { not: this.id } }] },
        select: { id: true, owner: true },
        orderBy: [{ createdAt: "asc" }, { id: "asc" }],
      });
      if (runs.length === 0) return [];
      const owners = [...new Set(runs.map((r) => r.owner).filter((o): o is string => o !== null))];
      const rows = await this.#prisma.serverInstance.findMany({ where: { id: { in: owners } }, select: { id: true, host: true, pid: true, heartbeatAt: true } });
      const byId = new Map(rows.map((r) => [r.id, r]));
      return runs.filter((r) => r.owner === null || !this.#alive(byId.get(r.owner), now)).map((r) => r.id);
    });
  }

  /** Whether a run still `pending` or `running` has a dead owner (false for finished runs and unknown ids). */
  async isOrphaned(workflowRunId: string, now: Date = new Date()): Promise<boolean> {
    return exclusive(this.#prisma, async () => {
      const run = await this.#prisma.workflowRun.findUnique({ where: { id: workflowRunId }, select: { status: true, owner: true } });
      if (!run || (run.status !== "pending" && run.status !== "running")) return false;
      if (run.owner === null) return true;
      const row = await this.#prisma.serverInstance.findUnique({ where: { id: run.owner }, select: { id: true, host: true, pid: true, heartbeatAt: true } });
      return !this.#alive(row ?? undefined, now);
    });
  }

  #alive(row: InstanceRow | undefined, now: Date): boolean {
    if (!row) return false;
    if (row.id === this.id || (row.pid === process.pid && inThisProcess.has(row.id))) return true;
    if (now.getTime() - row.heartbeatAt.getTime() > this.staleAfterMs) return false;
    if (row.host === this.host && (row.pid === this.pid || !this.#pidAlive(row.pid))) return false;
    return true;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
