import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { findOversize } from "../src/limits";
import { appRouter } from "../src/routers";
import { startTestServer, tempDir, type TestServer } from "./harness";

const MAX_BYTES = 1024;
type ProcedureDef = { _def: { type: "query" | "mutation" | "subscription"; inputs: z.ZodType[] } };
// At run time `_def.procedures` is flat, by dotted path.
const procedures = Object.entries(appRouter._def.procedures as unknown as Record<string, ProcedureDef>);

/** One request: the procedure, and the input as JSON text (text, so it can hold a real `__proto__` key or be broken). */
type Case = { path: string; type: ProcedureDef["_def"]["type"]; what: string; json: string };

const wrongValues: unknown[] = [42, -1.5, Number.POSITIVE_INFINITY, true, [], ["a", 1], {}, { nested: { a: 1 } }, "", 0];
const unicode = ["\u0000", "\ud800", "🤖".repeat(70), "\u202eevil", "e\u0301\u0301\u0301", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "\uffff\ufffe", "ﷺ".repeat(90)];
const deep = (levels: number): unknown => {
  let v: unknown = "bottom";
  for (let i = 0; i < levels; i++) v = { a: v };
  return v;
};

function shapeOf(schema: z.ZodType | undefined): Record<string, z.ZodType> | null {
  const inner = schema instanceof z.ZodDefault ? schema.unwrap() : schema;
  return inner instanceof z.ZodObject ? inner.shape : null;
}

/**
 * Malformed inputs made from each procedure's zod schema: each field given wrong types, huge and
 * unicode strings, deep objects; prototype-pollution keys; whole inputs of the wrong kind; broken JSON.
 * A candidate is kept only when the schema rejects it or it breaks a bound, so every case must be a 4xx.
 */
function generate(): Case[] {
  const cases: Case[] = [];
  for (const [path, p] of procedures) {
    const schema = p._def.inputs[0];
    const shape = shapeOf(schema);
    // Judged on what the server will parse (JSON turns Infinity into null); procedures without input ignore it unless it breaks a bound.
    const keep = (what: string, value: unknown, json = JSON.stringify(value)) => {
      const sent: unknown = JSON.parse(json);
      const invalid = findOversize(sent, MAX_BYTES) !== null || (schema !== undefined && !schema.safeParse(sent).success);
      if (invalid) cases.push({ path, type: p._def.type, what, json });
    };
    const fields = Object.keys(shape ?? {});
    const broken = (except: string) => Object.fromEntries(fields.filter((f) => f !== except).map((f) => [f, 42]));
    for (const field of fields) {
      for (const wrong of wrongValues) keep(`${field}=${JSON.stringify(wrong)}`, { [field]: wrong });
      keep(`${field} huge`, { [field]: "x".repeat(MAX_BYTES + 1) });
      keep(`${field} huge multibyte`, { [field]: "é".repeat(MAX_BYTES) });
      keep(`${field} deep`, { [field]: deep(200) });
      for (const u of unicode) {
        keep(`${field} unicode ${JSON.stringify(u.slice(0, 4))}`, { ...broken(field), [field]: u });
        keep(`${field} unicode key`, { [`${u.slice(0, 8)}`]: u, [field]: [u] });
      }
      keep(`${field} __proto__`, null, `{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},"${field}":{"__proto__":{"polluted":"yes"}}}`);
    }
    for (const whole of [42, "text", [1, 2], true, deep(500), "x".repeat(MAX_BYTES * 2)]) keep(`whole ${typeof whole}`, whole);
    if (schema) {
      cases.push({ path, type: p._def.type, what: "broken JSON", json: '{"a":' }, { path, type: p._def.type, what: "not JSON", json: "nul" });
      keep("__proto__ only", null, '{"__proto__":{"polluted":"yes"}}');
    }
  }
  return cases;
}

/** The HTTP status of a call, as the server answers it; for SSE the `httpStatus` of the error event it sends. */
async function statusOf(base: string, c: Case): Promise<number> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 30_000);
  try {
    const url = `${base}/${c.path}`;
    const response =
      c.type === "mutation"
        ? await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: c.json, signal: controller.signal })
        : await fetch(`${url}?input=${encodeURIComponent(c.json)}`, { headers: c.type === "subscription" ? { accept: "text/event-stream" } : {}, signal: controller.signal });
    if (c.type !== "subscription" || response.status !== 200 || !response.body) {
      await response.arrayBuffer();
      return response.status;
    }
    // An SSE stream: its first real event says how the call went.
    const decoder = new TextDecoder();
    let text = "";
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      text += decoder.decode(chunk, { stream: true });
      const error = /event: serialized-error\ndata: (.*)\n/.exec(text);
      // Leaving the loop cancels the body, which closes the stream.
      if (error?.[1]) {
        return (JSON.parse(error[1]) as { data?: { httpStatus?: number } }).data?.httpStatus ?? 0;
      }
      if (/\nid: |^id: |event: return/.test(text)) return 200;
    }
    return 200;
  } finally {
    clearTimeout(timer);
  }
}

describe("fuzzing every procedure with malformed input", () => {
  let t: TestServer;
  const tmp = tempDir();
  beforeAll(async () => {
    t = await startTestServer({ dbUrl: tmp.dbUrl, maxInputBytes: MAX_BYTES });
  }, 60_000);
  afterAll(async () => {
    await t.close();
    await tmp.remove();
  });

  it("answers 500+ malformed inputs with a 4xx each, never a 5xx, and stays healthy", async () => {
    const cases = generate();
    expect(cases.length).toBeGreaterThanOrEqual(500);
    const outcomes: Record<string, number> = {};
    for (const c of cases) outcomes[`${c.path} ${c.what} ${c.json.slice(0, 40)}`] = await statusOf(t.server.url, c);
    const bad = Object.entries(outcomes).filter(([, status]) => !(status >= 400 && status < 500));
    expect(bad).toEqual([]);

    // Nothing leaked into the server's prototypes, and it still serves: health, reads and a whole run.
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((await t.sse.health.query()).ok).toBe(true);
    expect((await t.sse.runs.list.query()).items.every((r) => r.status !== "failed")).toBe(true);
    expect((await t.sse.workflows.run.mutate({ key: "analysis_code", input: "Compute the mean of 1, 2, 3." })).status).toBe("succeeded");
  }, 600_000);
});
