// A second process for the two-process test: appends whole runs to the same SQLite file, as a second server would.
import { openDatabase } from "../src/database";
import { PrismaRunRecorder } from "../src/recorder";
import { newRun, succeededRun } from "./fixtures";

const [url, prefix, count] = process.argv.slice(2);
const db = await openDatabase({ url: url ?? "", busyTimeoutMs: 60_000 });
const recorder = new PrismaRunRecorder(db.prisma);
const runs = Array.from({ length: Number(count ?? 5) }, (_, i) => newRun(`${prefix ?? "p"}-${i}`));
for (const r of runs) await recorder.createRun(r);
console.log("ready");
await Promise.all(runs.map(async (r) => {
  for (const e of succeededRun(r)) await recorder.append(e);
}));
await recorder.close();
await db.close();
console.log("done");
