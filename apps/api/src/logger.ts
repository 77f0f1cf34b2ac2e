import { pino, type Logger } from "pino";

export type { Logger };

/**
 * Structured JSON logs on stdout. Written through `process.stdout` rather than pino's own fd writer:
 * that one retries forever when the reader of a pipe has gone (EPIPE), which blocked shutdown.
 */
export function createLogger(options: { level: string; name?: string }): Logger {
  return pino({ level: options.level, name: options.name ?? "workflows-api", base: { pid: process.pid } }, process.stdout);
}
