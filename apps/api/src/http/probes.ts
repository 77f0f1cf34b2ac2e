import type { IncomingMessage, ServerResponse } from "node:http";
import type { Services } from "../context";

export const LIVENESS_PATH = "/healthz";
export const READINESS_PATH = "/readyz";

export type ReadinessChecks = {
  /** False once shutdown began: new runs are refused. */
  accepting: boolean;
  /** The database answered a trivial query within the timeout. */
  database: "ok" | "unavailable";
};

export type Readiness =
  | { ready: true; checks: ReadinessChecks }
  | { ready: false; reason: "draining" | "database_unavailable"; message: string; checks: ReadinessChecks };

/**
 * Whether the server should receive traffic: it accepts runs and its database answers. Migrations
 * need no check of their own: `createServices` applies them before the server listens, and a
 * failure stops start-up.
 */
export async function checkReadiness(services: Pick<Services, "activeRuns" | "ping" | "logger">, timeoutMs: number): Promise<Readiness> {
  const database = await pingWithin(services, timeoutMs);
  const checks: ReadinessChecks = { accepting: services.activeRuns.accepting, database };
  if (!checks.accepting) return { ready: false, reason: "draining", message: "The server is shutting down and accepts no new runs.", checks };
  if (database !== "ok") return { ready: false, reason: "database_unavailable", message: "The database does not answer.", checks };
  return { ready: true, checks };
}

async function pingWithin(services: Pick<Services, "ping" | "logger">, timeoutMs: number): Promise<ReadinessChecks["database"]> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([services.ping(), timeout]);
    return "ok";
  } catch (error) {
    // The cause goes to the log only: a driver's message can name files and hosts.
    services.logger.warn({ err: error }, "readiness: database ping failed");
    return "unavailable";
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Answers `GET /healthz` and `GET /readyz` and returns true; returns false for any other path. Probes
 * are answered whatever the `Host` and `Origin`: orchestrators probe by pod IP, and a probe changes nothing.
 */
export function handleProbe(req: IncomingMessage, res: ServerResponse, services: Services, opts: { readinessTimeoutMs: number }): boolean {
  const path = (req.url ?? "").split("?")[0];
  if (path !== LIVENESS_PATH && path !== READINESS_PATH) return false;
  if (req.method !== "GET" && req.method !== "HEAD") {
    send(res, req, 405, { status: "method_not_allowed", message: "Probes answer GET and HEAD." }, { allow: "GET, HEAD" });
    return true;
  }
  if (path === LIVENESS_PATH) {
    send(res, req, 200, { status: "ok" });
    return true;
  }
  void checkReadiness(services, opts.readinessTimeoutMs).then(
    (r) => send(res, req, r.ready ? 200 : 503, r.ready ? { status: "ready", checks: r.checks } : { status: "not_ready", reason: r.reason, message: r.message, checks: r.checks }),
    (error: unknown) => {
      services.logger.error({ err: error }, "readiness check failed");
      send(res, req, 503, { status: "not_ready", reason: "internal_error", message: "The readiness check failed." });
    },
  );
  return true;
}

function send(res: ServerResponse, req: IncomingMessage, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), "cache-control": "no-store", ...headers });
  res.end(req.method === "HEAD" ? undefined : text);
}
