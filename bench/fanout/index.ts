/**
 * Fan-out of live events, through the typed tRPC client over real HTTP on loopback:
 * - subscribers: `--subscribers` (default 1,000) `runs.events` subscriptions (SSE, one connection each; or
 *   `--transport ws`: all on one WebSocket) spread over `--runs`
 *   (default 10) live runs of analysis_code. The runs are started and held at their first model call until
 *   every subscriber has its first event, then released (offline model, `--delay` ms per streamed chunk,
 *   default 20). Latency = receive time minus the event's `at` stamp, for every event stamped after the
 *   release; RSS added = the server process's peak RSS while followed minus its RSS just before.
 *   The subscribers live in a child process, so the RSS is the server's alone.
 * - storm: `--storm` (default 1,000) runs started at once with `workflows.runStream`, each stream checked
 *   for every event once, in order, up to its terminal event; time until the last one ends.
 * SQLite in a temp folder; with BENCH_PG_URL (a PostgreSQL server that may create databases) also PostgreSQL.
 *   npx tsx bench/fanout/index.ts [--subscribers 1000] [--runs 10] [--delay 20] [--transport sse|ws] [--storm 1000] [--only subscribers|storm]
 * Writes bench/results/fanout.json (fanout-ws.json with `--transport ws`, fanout-storm.json with `--only storm`).
 * Prints numbers beside their targets; never fails on them.
 */
import { fork } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { createLogger, createServer, createServices, type Services } from "@workflows/api";
import { createWorkflowsClient, type WorkflowsClient } from "@workflows/client";
import { isTerminalEvent } from "@workflows/core";
import { createTestDatabase } from "@workflows/db/testing";
import { startFlags } from "../../scripts/startCommand.mjs";
import { rerunWith } from "../lib/compiled";
import { percentile } from "../lib/stats";
import { gatedOfflineProvider } from "./gate";
import type { FromSubscribers, SubscriberReport, ToSubscribers } from "./protocol";

// The server runs in this process: give it the V8 flags `pnpm start` gives the compiled server.
const serverFlags = startFlags().filter((flag) => !flag.startsWith("--conditions"));
rerunWith(serverFlags);

const { values: args } = parseArgs({
  options: {
    subscribers: { type: "string", default: "1000" },
    runs: { type: "string", default: "10" },
    delay: { type: "string", default: "20" },
    storm: { type: "string", default: "1000" },
    only: { type: "string" },
    transport: { type: "string", default: "sse" },
  },
});
const SUBSCRIBERS = Number(args.subscribers);
const RUNS = Number(args.runs);
const DELAY_MS = Number(args.delay);
const STORM = Number(args.storm);
const TRANSPORT = args.transport === "ws" ? "ws" : "sse";
const input = "Compute the mean and standard deviation of 3, 5, 8, 13, 21 and write a function that prints them.";

const dir = mkdtempSync(path.join(os.tmpdir(), "wf-bench-fanout-"));
const pgServer = process.env.BENCH_PG_URL || undefined;
// createTestDatabase reads the server from TEST_PG_URL.
if (pgServer) process.env.TEST_PG_URL = pgServer;

type Database = { label: string; url: string; drop(): Promise<void> };
async function database(kind: "sqlite" | "postgres", name: string): Promise<Database> {
  if (kind === "sqlite") return { label: "SQLite", url: `file:${path.join(dir, `${name}.db`)}`, drop: () => Promise.resolve() };
  const db = await createTestDatabase("postgres");
  return { label: "PostgreSQL", url: db.url, drop: () => db.drop() };
}

async function withServer<T>(db: Database, opts: Partial<Parameters<typeof createServices>[0]>, body: (s: { services: Services; url: string; client: WorkflowsClient }) => Promise<T>): Promise<T> {
  const services = await createServices({ logger: createLogger({ level: "silent" }), databaseUrl: db.url, model: { provider: "offline" }, maxInputBytes: 64 * 1024, shutdownGraceMs: 1_000, ...opts });
  const server = await createServer(services, { port: 0, host: "127.0.0.1" });
  try {
    return await body({ services, url: server.url, client: createWorkflowsClient({ url: server.url }) });
  } finally {
    await server.close();
    await services.close();
    await db.drop();
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const rss = () => process.memoryUsage.rss();
const mb = (bytes: number) => bytes / 1024 / 1024;

type SubscribersResult = {
  subscribers: number;
  runs: number;
  transport: "sse" | "ws";
  delayMsPerChunk: number;
  joinMs: number;
  liveEvents: number;
  latencyMs: { p50: number; p99: number; max: number };
  rssAddedMb: number;
  /** The server's peak JavaScript heap while followed, minus before (part of the RSS added). */
  heapAddedMb: number;
  complete: number;
  broken: number;
  firstProblem: string | null;
  seconds: number;
  /** From the release to the last event: CPU of the server process and of the subscriber process. */
  cpuMs: { server: number; subscribers: number };
  /** Database reads of events (`listEvents`) and runs (`getRun`) from the release to the last event. */
  liveReads: { listEvents: number; getRun: number };
};

async function measureSubscribers(kind: "sqlite" | "postgres"): Promise<SubscribersResult> {
  const gated = gatedOfflineProvider(DELAY_MS);
  return withServer(await database(kind, "subscribers"), { modelProvider: gated.provider }, async ({ services, url, client }) => {
    // Every read of events or runs, the broadcaster's and the followers' alike, goes through `services.runs`.
    const reads = { listEvents: 0, getRun: 0 };
    const listEvents = services.runs.listEvents.bind(services.runs);
    const getRun = services.runs.getRun.bind(services.runs);
    services.runs.listEvents = (id, o) => {
      reads.listEvents++;
      return listEvents(id, o);
    };
    services.runs.getRun = (id) => {
      reads.getRun++;
      return getRun(id);
    };
    const t0 = performance.now();
    const finished = Array.from({ length: RUNS }, () => client.workflows.run.mutate({ key: "analysis_code", input }));
    let runIds: string[] = [];
    while (runIds.length < RUNS) {
      await sleep(20);
      runIds = (await client.runs.list.query({ workflowKey: "analysis_code", status: "running", limit: 100 })).items.map((r) => r.id);
    }
    (globalThis as { gc?: () => void }).gc?.();
    const before = rss();
    const heapBefore = process.memoryUsage().heapUsed;
    let peak = before;
    let heapPeak = heapBefore;
    const sampler = setInterval(() => {
      peak = Math.max(peak, rss());
      heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
    }, 50);
    const child = fork(path.join(import.meta.dirname, "subscribers.ts"), { execArgv: [...serverFlags, "--import", "tsx"] });
    const ready = new Promise<void>((resolve) => child.on("message", (m: FromSubscribers) => m.type === "ready" && resolve()));
    const joined = new Promise<void>((resolve) => child.on("message", (m: FromSubscribers) => m.type === "joined" && resolve()));
    const done = new Promise<SubscriberReport>((resolve, reject) => {
      child.on("message", (m: FromSubscribers) => m.type === "done" && resolve(m.report));
      child.on("exit", (code) => reject(new Error(`subscriber process exited (${code}) before reporting`)));
    });
    await ready;
    const joinStart = performance.now();
    child.send({ type: "subscribe", url, runIds, perRun: Math.ceil(SUBSCRIBERS / RUNS), transport: TRANSPORT } satisfies ToSubscribers);
    await joined;
    // A follower's first event comes from its first page; it reads the run once more before it is live. Wait until those reads are over.
    for (let seen = -1; seen !== reads.getRun + reads.listEvents; ) {
      seen = reads.getRun + reads.listEvents;
      await sleep(500);
    }
    const joinMs = performance.now() - joinStart;
    child.send({ type: "released", at: Date.now() } satisfies ToSubscribers);
    const readsAtRelease = { ...reads };
    const cpuAtRelease = process.cpuUsage();
    gated.open();
    const report = await done;
    const cpu = process.cpuUsage(cpuAtRelease);
    clearInterval(sampler);
    peak = Math.max(peak, rss());
    child.kill();
    await Promise.all(finished);
    const sorted = report.latencies.sort((a, b) => a - b);
    return {
      subscribers: Math.ceil(SUBSCRIBERS / RUNS) * RUNS,
      runs: RUNS,
      transport: TRANSPORT,
      delayMsPerChunk: DELAY_MS,
      joinMs: Math.round(joinMs),
      liveEvents: sorted.length,
      latencyMs: { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) ?? Number.NaN },
      rssAddedMb: Math.round(mb(peak - before)),
      heapAddedMb: Math.round(mb(heapPeak - heapBefore)),
      complete: report.complete,
      broken: report.broken,
      firstProblem: report.firstProblem,
      seconds: Math.round((performance.now() - t0) / 100) / 10,
      cpuMs: { server: Math.round((cpu.user + cpu.system) / 1000), subscribers: report.cpuMs },
      liveReads: { listEvents: reads.listEvents - readsAtRelease.listEvents, getRun: reads.getRun - readsAtRelease.getRun },
    };
  });
}

type StormResult = { runs: number; succeeded: number; inOrder: number; events: number; seconds: number; firstProblem: string | null };

async function measureStorm(kind: "sqlite" | "postgres"): Promise<StormResult> {
  return withServer(await database(kind, "storm"), {}, async ({ client }) => {
    const t0 = performance.now();
    const result: StormResult = { runs: STORM, succeeded: 0, inOrder: 0, events: 0, seconds: Number.NaN, firstProblem: null };
    await Promise.all(
      Array.from({ length: STORM }, async (_, i) => {
        let expected = 1;
        let ordered = true;
        let last: string | undefined;
        try {
          for await (const { data: event } of client.workflows.runStream.subscribe({ key: "analysis_code", input: `${input} #${i}` })) {
            result.events++;
            if (event.seq !== expected) {
              ordered = false;
              result.firstProblem ??= `run ${event.workflowRunId}: seq ${event.seq} where ${expected} was expected`;
            }
            expected = event.seq + 1;
            last = event.type;
            if (isTerminalEvent(event)) break;
          }
        } catch (error) {
          result.firstProblem ??= String(error);
        }
        if (ordered) result.inOrder++;
        if (last === "run.completed") result.succeeded++;
      }),
    );
    result.seconds = Math.round((performance.now() - t0) / 100) / 10;
    return result;
  });
}

const row = (name: string, value: string, target: string) => console.log(`  ${name.padEnd(34)} ${value.padStart(12)}   target ${target}`);

function printSubscribers(label: string, r: SubscribersResult): void {
  console.log(`${label}: ${r.subscribers} runs.events subscribers on ${r.runs} live runs (analysis_code, ${r.delayMsPerChunk} ms per chunk), over ${r.transport === "ws" ? "one WebSocket" : "SSE"}`);
  row("latency p50", `${r.latencyMs.p50} ms`, "<= 50 ms");
  row("latency p99", `${r.latencyMs.p99} ms`, "<= 250 ms");
  row("latency max", `${r.latencyMs.max} ms`, "-");
  row("RSS added (server)", `${r.rssAddedMb} MB`, "<= 200 MB");
  row("of which JS heap", `${r.heapAddedMb} MB`, "-");
  row("live events received", `${r.liveEvents}`, "-");
  row("subscriptions complete, in order", `${r.complete}/${r.subscribers}`, `${r.subscribers}/${r.subscribers}`);
  row("time for all to join", `${r.joinMs} ms`, "-");
  row("reads while live (events / runs)", `${r.liveReads.listEvents} / ${r.liveReads.getRun}`, "-");
  row("CPU while live (server / clients)", `${r.cpuMs.server} / ${r.cpuMs.subscribers} ms`, "-");
  if (r.firstProblem) console.log(`  first problem: ${r.firstProblem}`);
}

function printStorm(label: string, r: StormResult): void {
  console.log(`${label}: ${r.runs} runs started at once with workflows.runStream (analysis_code, offline model)`);
  row("all streams ended after", `${r.seconds} s`, "<= 120 s");
  row("runs completed", `${r.succeeded}/${r.runs}`, `${r.runs}/${r.runs}`);
  row("streams with every event in order", `${r.inOrder}/${r.runs}`, `${r.runs}/${r.runs}`);
  row("events received", `${r.events}`, "-");
  if (r.firstProblem) console.log(`  first problem: ${r.firstProblem}`);
}

const results: Record<string, { subscribers?: SubscribersResult; storm?: StormResult }> = {};
try {
  for (const kind of ["sqlite", ...(pgServer ? ["postgres" as const] : [])] as const) {
    const label = kind === "sqlite" ? "SQLite" : "PostgreSQL";
    const entry: (typeof results)[string] = (results[kind] = {});
    if (args.only !== "storm") {
      console.error(`measuring ${label}: subscribers…`);
      printSubscribers(label, (entry.subscribers = await measureSubscribers(kind)));
    }
    if (args.only !== "subscribers") {
      console.error(`measuring ${label}: storm…`);
      printStorm(label, (entry.storm = await measureStorm(kind)));
    }
  }
  const cpus = os.cpus();
  const name = args.only === "storm" ? "fanout-storm" : TRANSPORT === "ws" ? "fanout-ws" : "fanout";
  const out = path.join(import.meta.dirname, "..", "results", `${name}.json`);
  mkdirSync(path.dirname(out), { recursive: true });
  const machine = { cpus: cpus.length, cpuModel: cpus[0]?.model ?? "unknown", memoryGb: Math.round(os.totalmem() / 2 ** 30), platform: `${os.platform()} ${os.release()}`, loadAverage: os.loadavg().map((n) => Math.round(n * 10) / 10) };
  writeFileSync(out, `${JSON.stringify({ date: new Date().toISOString(), node: process.version, machine, args, results }, null, 2)}\n`);
  console.log(`written ${path.relative(process.cwd(), out)}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
