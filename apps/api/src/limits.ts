import { z } from "zod";

/**
 * Bounds of what callers send, besides MAX_INPUT_BYTES (which caps every string, and is the only
 * bound of a run's `input` and a chat `message`). docs/security.md lists them.
 */
export const limits = {
  /** Run ids, workflow and agent keys, conversation ids, idempotency keys. */
  idChars: 200,
  /** `lastEventId`: `<workflowRunId>:<seq>`. */
  eventIdChars: 300,
  /** `runs.list` cursors as the server gives them out. */
  cursorChars: 1_000,
  /** API key names (and `runs.list`'s `createdBy`). */
  keyNameChars: 64,
  /** Nesting of objects and arrays in any input (a JSON run input included). */
  inputDepth: 32,
} as const;

/** A non-empty identifier of at most `limits.idChars` characters; the messages name the field. */
export const idString = (field: string) => z.string().min(1, `${field} must not be empty`).max(limits.idChars, `${field} must be at most ${limits.idChars} characters`);

/** What a blank `agentText` is told. */
export const blankMessage = (field: string) => `${field} must not be empty or only whitespace`;
/** Text for an agent (a run's text input, a chat message): at least one character that is not whitespace. */
export const agentText = (field: string) => z.string().regex(/\S/, blankMessage(field));

/** An event id as `tracked()` writes them, when a client reconnects. */
export const eventIdString = z.string().max(limits.eventIdChars, `lastEventId must be at most ${limits.eventIdChars} characters`);

/** Where in `value` a string is longer than `maxBytes` UTF-8 bytes or nesting passes `limits.inputDepth`; null when nowhere. */
export function findOversize(value: unknown, maxBytes: number): { path: string; problem: "too_large" | "too_deep" } | null {
  const stack: { value: unknown; path: string; depth: number }[] = [{ value, path: "", depth: 0 }];
  while (stack.length > 0) {
    const { value: v, path, depth } = stack.pop()!;
    if (typeof v === "string") {
      if (v.length * 3 > maxBytes && Buffer.byteLength(v, "utf8") > maxBytes) return { path: path || "(input)", problem: "too_large" };
    } else if (typeof v === "object" && v !== null) {
      if (depth >= limits.inputDepth) return { path: path || "(input)", problem: "too_deep" };
      for (const [k, child] of Object.entries(v)) {
        if (k.length * 3 > maxBytes && Buffer.byteLength(k, "utf8") > maxBytes) return { path: path || "(input)", problem: "too_large" };
        stack.push({ value: child, path: path ? `${path}.${k}` : k, depth: depth + 1 });
      }
    }
  }
  return null;
}
