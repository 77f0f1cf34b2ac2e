import { isIP } from "node:net";

/**
 * Which browsers' requests and which `Host` names the server accepts. Built once from the
 * configuration by `edgePolicy`; `checkRequest` applies it to one request.
 */
export type EdgePolicy = {
  /** Exact origins (`scheme://host[:port]`) whose pages may call the API. */
  allowedOrigins: ReadonlySet<string>;
  hosts: HostPolicy;
};

type HostPolicy =
  | { kind: "any" }
  /** `names` match with any port; `namesWithPort` (`name:port`) match only that port. IP literals: any address. */
  | { kind: "listed"; names: ReadonlySet<string>; namesWithPort: ReadonlySet<string>; ipLiterals: boolean };

/** The names a loopback server always answers to, whatever the port (ssh or kubectl port-forwards change it). */
export const loopbackHostNames: readonly string[] = ["localhost", "127.0.0.1", "[::1]"];

/** True for addresses only this machine can reach: `localhost`, `127.0.0.0/8`, `::1`. */
export function isLoopbackAddress(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, "$1");
  if (h === "localhost" || h === "::1") return true;
  return isIP(h) === 4 && h.startsWith("127.");
}

/**
 * The policy for a server bound to `bindHost`.
 * - Loopback binding: the loopback names, the bound address and `allowedHosts`; nothing else, so a
 *   DNS-rebinding page (whose requests carry its own host name) is refused.
 * - Other bindings: any `Host` when `allowedHosts` is empty (the server is reachable by whatever name
 *   the network gives it); when set, those names plus the loopback names and IP literals (pod and
 *   service IPs; an IP literal cannot be rebound).
 * - `*` in `allowedHosts`: any `Host`.
 */
export function edgePolicy(opts: { bindHost: string; allowedOrigins: readonly string[]; allowedHosts: readonly string[] }): EdgePolicy {
  const allowedOrigins = new Set(opts.allowedOrigins);
  const loopback = isLoopbackAddress(opts.bindHost);
  if (opts.allowedHosts.includes("*") || (!loopback && opts.allowedHosts.length === 0)) return { allowedOrigins, hosts: { kind: "any" } };
  const names = new Set(loopbackHostNames);
  const namesWithPort = new Set<string>();
  const bound = formatHostName(opts.bindHost);
  if (bound !== "0.0.0.0" && bound !== "[::]") names.add(bound);
  for (const entry of opts.allowedHosts) {
    const parsed = parseHost(entry);
    if (!parsed) continue; // env.ts validates entries; a bad one simply matches nothing
    if (parsed.port === null) names.add(parsed.name);
    else namesWithPort.add(`${parsed.name}:${parsed.port}`);
  }
  return { allowedOrigins, hosts: { kind: "listed", names, namesWithPort, ipLiterals: !loopback } };
}

/** What the guard reads of a request: its method and headers, as Node gives them (lower-case names). */
export type RequestFacts = {
  method?: string | undefined;
  headers: Readonly<Record<string, string | string[] | undefined>>;
};

export type RefusalReason = "host_not_allowed" | "origin_not_allowed" | "cross_site";

export type EdgeDecision =
  | {
      allowed: true;
      /** The request's `Origin` when it is an allowed one: the response carries CORS headers for it. */
      corsOrigin: string | null;
      /** A CORS preflight from an allowed origin: answer it here, it never reaches a procedure. */
      preflight: boolean;
    }
  | { allowed: false; reason: RefusalReason; message: string };

/**
 * Decides whether a request (HTTP or WebSocket upgrade) may reach the API. Browsers mark what they
 * send: a page of another site always carries `Origin` (fetch, WebSocket) or `Sec-Fetch-Site:
 * cross-site` (`<img>`, `<script>`, navigations), so both must be absent or vouched for. Clients
 * that are not browsers send neither and pass.
 */
export function checkRequest(req: RequestFacts, policy: EdgePolicy): EdgeDecision {
  const host = header(req, "host");
  if (!hostAllowed(host, policy.hosts)) {
    return {
      allowed: false,
      reason: "host_not_allowed",
      message: "The Host header names a host this server does not answer to. If it is yours, add it to ALLOWED_HOSTS.",
    };
  }
  const origin = header(req, "origin");
  if (origin !== undefined) {
    if (!policy.allowedOrigins.has(origin)) {
      return {
        allowed: false,
        reason: "origin_not_allowed",
        message: "Requests from web pages are refused unless their origin is listed in ALLOWED_ORIGINS.",
      };
    }
    const preflight = req.method === "OPTIONS" && header(req, "access-control-request-method") !== undefined;
    return { allowed: true, corsOrigin: origin, preflight };
  }
  const site = header(req, "sec-fetch-site");
  // `same-site` is refused too: every http://localhost:<port> page is same-site with a loopback server.
  if (site === undefined || site === "same-origin" || site === "none") return { allowed: true, corsOrigin: null, preflight: false };
  return {
    allowed: false,
    reason: "cross_site",
    message: "A browser sent this request from another site (Sec-Fetch-Site). Call the API from a page whose origin is in ALLOWED_ORIGINS.",
  };
}

function header(req: RequestFacts, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(", ") : value;
}

function hostAllowed(host: string | undefined, policy: HostPolicy): boolean {
  if (policy.kind === "any") return true;
  // Every HTTP/1.1 client sends Host; only a hand-made request lacks it, and nothing vouches for it.
  if (host === undefined) return false;
  const parsed = parseHost(host);
  if (!parsed) return false;
  if (policy.names.has(parsed.name)) return true;
  if (parsed.port !== null && policy.namesWithPort.has(`${parsed.name}:${parsed.port}`)) return true;
  return policy.ipLiterals && isIP(parsed.name.replace(/^\[(.*)\]$/, "$1")) !== 0;
}

/** `name[:port]` as in a Host header; IPv6 in brackets. Lower-cased. Null when malformed. */
export function parseHost(value: string): { name: string; port: string | null } | null {
  const h = value.trim().toLowerCase();
  let name: string;
  let rest: string;
  if (h.startsWith("[")) {
    const end = h.indexOf("]");
    if (end < 0 || isIP(h.slice(1, end)) !== 6) return null;
    name = h.slice(0, end + 1);
    rest = h.slice(end + 1);
  } else {
    const colon = h.indexOf(":");
    name = colon < 0 ? h : h.slice(0, colon);
    rest = colon < 0 ? "" : h.slice(colon);
    if (!/^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/.test(name)) return null;
  }
  if (rest === "") return { name, port: null };
  const port = /^:(\d{1,5})$/.exec(rest)?.[1];
  return port === undefined ? null : { name, port };
}

function formatHostName(bindHost: string): string {
  const h = bindHost.toLowerCase();
  return isIP(h) === 6 ? `[${h}]` : h;
}
