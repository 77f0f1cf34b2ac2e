import { describe, expect, it } from "vitest";
import { checkRequest, edgePolicy, isLoopbackAddress, parseHost, type RequestFacts } from "./requestGuard";

const loopback = edgePolicy({ bindHost: "127.0.0.1", allowedOrigins: [], allowedHosts: [] });
const withUi = edgePolicy({ bindHost: "127.0.0.1", allowedOrigins: ["http://localhost:5173"], allowedHosts: [] });
const req = (headers: RequestFacts["headers"], method = "GET"): RequestFacts => ({ method, headers: { host: "127.0.0.1:3000", ...headers } });
const reason = (facts: RequestFacts, policy = loopback) => {
  const d = checkRequest(facts, policy);
  return d.allowed ? "allowed" : d.reason;
};

describe("checkRequest: browsers", () => {
  it("lets clients that are not browsers through (no Origin, no Sec-Fetch-Site)", () => {
    expect(checkRequest(req({}), loopback)).toEqual({ allowed: true, corsOrigin: null, preflight: false });
  });

  it("refuses any Origin when none is allowed, on GET, POST and upgrades alike", () => {
    expect(reason(req({ origin: "http://evil.example" }))).toBe("origin_not_allowed");
    expect(reason(req({ origin: "http://evil.example" }, "POST"))).toBe("origin_not_allowed");
    expect(reason(req({ origin: "null" }))).toBe("origin_not_allowed");
    // Another local dev server is a different origin too.
    expect(reason(req({ origin: "http://localhost:8080" }))).toBe("origin_not_allowed");
  });

  it("refuses what a browser marks cross-site or same-site without an allowed Origin (<img>, EventSource, navigations)", () => {
    expect(reason(req({ "sec-fetch-site": "cross-site" }))).toBe("cross_site");
    expect(reason(req({ "sec-fetch-site": "same-site" }))).toBe("cross_site");
    expect(reason(req({ "sec-fetch-site": "something-new" }))).toBe("cross_site");
  });

  it("lets same-origin and user-initiated (none) requests through", () => {
    expect(reason(req({ "sec-fetch-site": "same-origin" }))).toBe("allowed");
    expect(reason(req({ "sec-fetch-site": "none" }))).toBe("allowed");
  });

  it("lets an allowed origin through, cross-site included, and names it for CORS", () => {
    expect(checkRequest(req({ origin: "http://localhost:5173", "sec-fetch-site": "same-site" }), withUi)).toEqual({ allowed: true, corsOrigin: "http://localhost:5173", preflight: false });
    expect(reason(req({ origin: "http://localhost:5173", "sec-fetch-site": "cross-site" }), withUi)).toBe("allowed");
    expect(reason(req({ origin: "http://localhost:5174" }), withUi)).toBe("origin_not_allowed");
    expect(reason(req({ origin: "https://localhost:5173" }), withUi)).toBe("origin_not_allowed");
  });

  it("marks a CORS preflight from an allowed origin, and refuses one from another", () => {
    const preflight = (origin: string) => req({ origin, "access-control-request-method": "POST" }, "OPTIONS");
    expect(checkRequest(preflight("http://localhost:5173"), withUi)).toMatchObject({ allowed: true, preflight: true });
    expect(reason(preflight("http://evil.example"), withUi)).toBe("origin_not_allowed");
  });

  it("reads duplicated headers as one list, which matches no allowed value", () => {
    expect(reason(req({ "sec-fetch-site": ["same-origin", "cross-site"] }))).toBe("cross_site");
  });
});

describe("checkRequest: Host on a loopback server", () => {
  it.each(["localhost", "localhost:3000", "127.0.0.1", "127.0.0.1:3000", "[::1]", "[::1]:3000", "LOCALHOST:3000", "localhost:8080"])("answers %s", (host) => {
    expect(reason(req({ host }))).toBe("allowed");
  });

  it.each(["evil.example", "evil.example:3000", "localhost.evil.example", "127.0.0.1.nip.io:3000", "10.0.0.5:3000", "localhost:3000:1", "[::1", ""])("refuses %j (DNS rebinding)", (host) => {
    expect(reason(req({ host }))).toBe("host_not_allowed");
  });

  it("refuses a request without Host", () => {
    expect(reason({ method: "GET", headers: {} })).toBe("host_not_allowed");
  });

  it("adds ALLOWED_HOSTS, with any port or only the one named", () => {
    const policy = edgePolicy({ bindHost: "127.0.0.1", allowedOrigins: [], allowedHosts: ["wf.internal", "api.example.com:8443"] });
    expect(reason(req({ host: "wf.internal:3000" }), policy)).toBe("allowed");
    expect(reason(req({ host: "api.example.com:8443" }), policy)).toBe("allowed");
    expect(reason(req({ host: "api.example.com" }), policy)).toBe("host_not_allowed");
    expect(reason(req({ host: "api.example.com:443" }), policy)).toBe("host_not_allowed");
  });

  it("answers the address it is bound to", () => {
    const policy = edgePolicy({ bindHost: "127.0.0.2", allowedOrigins: [], allowedHosts: [] });
    expect(reason(req({ host: "127.0.0.2:3000" }), policy)).toBe("allowed");
    const v6 = edgePolicy({ bindHost: "::1", allowedOrigins: [], allowedHosts: [] });
    expect(reason(req({ host: "[::1]:3000" }), v6)).toBe("allowed");
  });

  it("answers any Host with ALLOWED_HOSTS=*, and still checks browsers", () => {
    const policy = edgePolicy({ bindHost: "127.0.0.1", allowedOrigins: [], allowedHosts: ["*"] });
    expect(reason(req({ host: "anything.example" }), policy)).toBe("allowed");
    expect(reason(req({ host: "anything.example", origin: "http://evil.example" }), policy)).toBe("origin_not_allowed");
  });
});

describe("checkRequest: Host on a non-loopback binding", () => {
  it("answers any Host when ALLOWED_HOSTS is empty", () => {
    const policy = edgePolicy({ bindHost: "0.0.0.0", allowedOrigins: [], allowedHosts: [] });
    expect(policy.hosts.kind).toBe("any");
    expect(reason(req({ host: "whatever.example:3000" }), policy)).toBe("allowed");
  });

  it("with ALLOWED_HOSTS: those names, the loopback names and IP literals (pod IPs), nothing else", () => {
    const policy = edgePolicy({ bindHost: "0.0.0.0", allowedOrigins: [], allowedHosts: ["workflows.example.com"] });
    expect(reason(req({ host: "workflows.example.com" }), policy)).toBe("allowed");
    expect(reason(req({ host: "10.1.2.3:3000" }), policy)).toBe("allowed");
    expect(reason(req({ host: "[fd00::1]:3000" }), policy)).toBe("allowed");
    expect(reason(req({ host: "localhost:3000" }), policy)).toBe("allowed");
    expect(reason(req({ host: "evil.example" }), policy)).toBe("host_not_allowed");
  });
});

describe("helpers", () => {
  it("parseHost splits name and port, lower-cases, and rejects malformed values", () => {
    expect(parseHost("Example.COM:80")).toEqual({ name: "example.com", port: "80" });
    expect(parseHost("[::1]")).toEqual({ name: "[::1]", port: null });
    expect(parseHost("[::1]:3000")).toEqual({ name: "[::1]", port: "3000" });
    for (const bad of ["", "a b", "host:", "host:x", "[nope]:1", "::1", "a/b"]) expect(parseHost(bad)).toBeNull();
  });

  it("isLoopbackAddress knows 127/8, ::1 and localhost", () => {
    expect(["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"].every(isLoopbackAddress)).toBe(true);
    expect(["0.0.0.0", "::", "10.0.0.1", "128.0.0.1", "example.com"].some(isLoopbackAddress)).toBe(false);
  });
});
