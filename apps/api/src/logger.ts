import { pino, type Logger } from "pino";
import { Redactor } from "./redaction/redactor";

export type { Logger };

/**
 * Structured JSON logs on stdout. Written through `process.stdout` rather than pino's own fd writer:
 * that one retries forever when the reader of a pipe has gone (EPIPE), which blocked shutdown.
 */
export function createLogger(options: { level: string; name?: string; redactor?: Redactor }): Logger {
  const redactor = options.redactor ?? new Redactor();
  return pino(
    {
      level: options.level,
      name: options.name ?? "workflows-api",
      base: { pid: process.pid },
      // Secrets that reach a log line (an input in an error message, a header) are redacted like stored data.
      hooks: { streamWrite: (line) => redactor.text(line) },
    },
    process.stdout,
  );
}
