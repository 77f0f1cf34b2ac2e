import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { openDatabase } from "@workflows/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, tempDir } from "./harness";

const apiDir = fileURLToPath(new URL("..", import.meta.url));
const tmp = tempDir();
let dbUrl: string;

/** `pnpm db:prune …` as its own process on the test database; never throws, answers exit code and output. */
async function prune(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ["--import", "tsx", "src/runs/pruneCli.ts", ...args], { cwd: apiDir, env: { ...process.env, DATABASE_URL: dbUrl } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

const runsIn = (stdout: string) => Number(/(\d+) run\(s\)/.exec(stdout)?.[1] ?? NaN);

beforeAll(async () => {
  dbUrl = await tmp.ensure(tmp.dbUrl);
  const t = await startTestServer({ dbUrl });
  try {
    for (const input of ["mean of 1, 2, 3", "max of 4, 9, 2", "sum of 5, 6"]) expect((await t.sse.workflows.run.mutate({ key: "analysis_code", input })).status).toBe("succeeded");
  } finally {
    await t.close();
  }
}, 180_000);
afterAll(() => tmp.remove());

// Each test starts CLI processes (tsx, Prisma, the schema engine): generous limits on a shared machine.
describe("pnpm db:prune", { timeout: 180_000 }, () => {
  it("counts with --dry-run, deleting nothing; keeps runs younger than --older-than", async () => {
    const [young, dry] = await Promise.all([prune("--older-than", "1"), prune("--older-than", "0", "--dry-run")]);
    expect(young).toMatchObject({ code: 0 });
    expect(runsIn(young.stdout)).toBe(0);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/^Dry run on .*: would delete 3 run\(s\), 6 step\(s\), \d+ event\(s\), \d+ span\(s\)/);
    const db = await openDatabase({ url: dbUrl });
    try {
      expect(await db.prisma.workflowRun.count()).toBe(3);
    } finally {
      await db.close();
    }
  });

  it("two prunes at once (two processes) both succeed and delete each run once, with every row of it", async () => {
    const [a, b] = await Promise.all([prune("--older-than", "0", "--batch-size", "1"), prune("--older-than", "0", "--batch-size", "1")]);
    expect([a.code, b.code, a.stderr, b.stderr]).toEqual([0, 0, "", ""]);
    expect(runsIn(a.stdout) + runsIn(b.stdout)).toBe(3);
    const db = await openDatabase({ url: dbUrl });
    try {
      const counts = await Promise.all([db.prisma.workflowRun.count(), db.prisma.workflowRunStep.count(), db.prisma.workflowRunEventChunk.count(), db.prisma.workflowRunPack.count(), db.prisma.traceSpan.count()]);
      expect(counts).toEqual([0, 0, 0, 0, 0]);
    } finally {
      await db.close();
    }
  });

  it("refuses a missing or bad --older-than with the usage, exit 1", async () => {
    const cases = [[], ["--older-than", "soon"], ["--older-than", "-2"], ["--what"]];
    const results = await Promise.all(cases.map((args) => prune(...args)));
    for (const [i, r] of results.entries()) {
      expect(r.code, cases[i]?.join(" ")).toBe(1);
      expect(r.stderr).toContain("Usage: pnpm db:prune --older-than <days> [--dry-run]");
    }
  });
});
