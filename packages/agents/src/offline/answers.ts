import { parseNumbers } from "../statistics";
import type { ToolResult } from "./requestView";

/** Every offline text answer starts with this, so nobody mistakes it for a language model's. */
export const OFFLINE_PREFIX = "[offline]";

/** The marker that makes the offline model reject in structured verdicts. */
export const REJECT_MARKER = /\bREJECT\b/;

type Style = "code" | "prose" | "outline" | "reply";

/** The answer style follows the first sentence of the agent's instructions ("You write code. ..."). */
export function styleOf(instructions: string | undefined): Style {
  const first = (instructions ?? "").split(/(?<=[.!?])\s/)[0] ?? "";
  if (/\bcode\b/i.test(first)) return "code";
  if (/\bprose\b/i.test(first)) return "prose";
  if (/\boutlines?\b/i.test(first)) return "outline";
  return "reply";
}

export function textAnswer(args: { instructions: string | undefined; userText: string; toolResults: readonly ToolResult[] }): string {
  if (args.toolResults.length > 0) return toolReport(args.toolResults);
  const style = styleOf(args.instructions);
  switch (style) {
    case "code":
      return codeAnswer(args.userText);
    case "prose":
      return proseAnswer(args.userText);
    case "outline":
      return outlineAnswer(args.userText);
    case "reply":
      return replyAnswer(args.instructions, args.userText);
    default:
      return style satisfies never;
  }
}

function toolReport(results: readonly ToolResult[]): string {
  const lines = results.map((r) => {
    const fields = objectFields(r.output);
    if (fields && typeof fields.error === "string") return `${r.name} reported an error: ${fields.error}`;
    if (fields) return `${r.name} returned ${Object.entries(fields).map(([k, v]) => `${k} = ${JSON.stringify(v)}`).join(", ")}.`;
    return `${r.name} returned: ${r.output}`;
  });
  return `${OFFLINE_PREFIX} ${lines.join("\n")}\n(Numbers are copied from the tool output; this answer was written by the offline deterministic model.)`;
}

function objectFields(output: string): Record<string, unknown> | null {
  try {
    const parsed: unknown = JSON.parse(output);
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

const statKeys = /\b(count|sum|mean|median|min|max|stddev)"?\s*[:=]\s*"?(-?\d+(?:\.\d+)?(?:e[-+]?\d+)?)/gi;

/** The caller's own words when a mapper quoted them ("Original request:" up to the next "Heading:" section). */
const originalRequest = /Original request:\s*\n([\s\S]*?)(?:\n\s*\n[A-Z][\w ]*:|$)/;

function codeAnswer(request: string): string {
  const known = [...request.matchAll(statKeys)].map((m) => `${m[1]} ${m[2]}`);
  // The data values come from what the user asked, not from the analysis's statistics.
  const asked = originalRequest.exec(request)?.[1]?.trim() || request;
  const numbers = parseNumbers(asked);
  const values = numbers.success ? numbers.data.slice(0, 20) : [];
  return [
    `${OFFLINE_PREFIX} Deterministic code for: "${firstLine(asked)}"`,
    "",
    "```ts",
    ...(known.length > 0 ? [`// Statistics from the analysis: ${[...new Set(known)].join(", ")}`] : []),
    `export const values: readonly number[] = [${values.join(", ")}];`,
    "",
    "export function summarize(xs: readonly number[]) {",
    "  const sorted = [...xs].sort((a, b) => a - b);",
    "  const count = sorted.length;",
    "  const sum = sorted.reduce((acc, x) => acc + x, 0);",
    "  const mean = count === 0 ? NaN : sum / count;",
    "  const mid = Math.floor(count / 2);",
    "  const median = count % 2 === 1 ? sorted[mid] : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;",
    "  return { count, sum, mean, median, min: sorted[0], max: sorted[count - 1] };",
    "}",
    "```",
  ].join("\n");
}

function outlineAnswer(topic: string): string {
  const t = firstLine(topic);
  const points = [`Introduction: why "${t}" matters`, `Background and key facts about ${t}`, `Main argument on ${t}`, "Conclusion and next steps"];
  return `${OFFLINE_PREFIX} Outline\n${points.map((p, i) => `${i + 1}. ${p}`).join("\n")}`;
}

function proseAnswer(outline: string): string {
  const lines = outline.split("\n").map((l) => l.replace(/^\s*(\d+[.)]|[-*])\s*/, "").trim()).filter((l) => l && !l.startsWith(OFFLINE_PREFIX));
  const paragraphs = (lines.length > 0 ? lines : [firstLine(outline)]).slice(0, 8).map((l) => `${l}. This paragraph develops the point "${l}".`);
  return `${OFFLINE_PREFIX} ${paragraphs.join("\n\n")}`;
}

function replyAnswer(instructions: string | undefined, userText: string): string {
  const role = (instructions ?? "").split(/(?<=[.!?])\s/)[0]?.trim();
  return `${OFFLINE_PREFIX} Deterministic reply${role ? ` (role: ${role})` : ""} to: "${firstLine(userText)}"`;
}

function firstLine(text: string): string {
  const line = text.trim().split("\n")[0] ?? "";
  return line.length > 120 ? `${line.slice(0, 117)}...` : line;
}
