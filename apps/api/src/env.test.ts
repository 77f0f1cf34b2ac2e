import { describe, expect, it } from "vitest";
import { EnvError, parseEnv } from "./env";

describe("parseEnv", () => {
  it("starts on embedded defaults: offline model, 127.0.0.1:3000", () => {
    const env = parseEnv({});
    expect(env).toMatchObject({ host: "127.0.0.1", port: 3000, databaseUrl: undefined, model: { provider: "offline" }, logLevel: "info" });
  });

  it("has the documented durability defaults, each settable", () => {
    expect(parseEnv({}).durability).toEqual({ stepMaxAttempts: 3, stepRetryBaseDelayMs: 1_000, stepTimeoutMs: 600_000, maxConcurrentRuns: 16, resumeOnStart: true, heartbeatIntervalMs: 5_000, ownerTimeoutMs: 20_000 });
    expect(parseEnv({ STEP_MAX_ATTEMPTS: "5", MAX_CONCURRENT_RUNS: "2", RESUME_ON_START: "false" }).durability).toMatchObject({ stepMaxAttempts: 5, maxConcurrentRuns: 2, resumeOnStart: false });
  });

  it("picks openai when a key is set, with the API style and base URL", () => {
    const env = parseEnv({ OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: "http://127.0.0.1:11434/v1", OPENAI_API: "chat_completions", OPENAI_MODEL: "llama3" });
    expect(env.model).toEqual({ provider: "openai", apiKey: "sk-test", baseURL: "http://127.0.0.1:11434/v1", api: "chat_completions", model: "llama3" });
  });

  it("gives the offline model a streaming delay with OFFLINE_DELAY_MS, and rejects a bad one by name", () => {
    expect(parseEnv({ OFFLINE_DELAY_MS: "25" }).model).toEqual({ provider: "offline", delayMs: 25 });
    expect(() => parseEnv({ OFFLINE_DELAY_MS: "-1" })).toThrow(/OFFLINE_DELAY_MS/);
  });

  it("honours MODEL_PROVIDER=offline even with a key", () => {
    expect(parseEnv({ OPENAI_API_KEY: "sk-test", MODEL_PROVIDER: "offline" }).model).toEqual({ provider: "offline" });
  });

  it("takes a PostgreSQL or SQLite DATABASE_URL with a pool size, and names DATABASE_URL for any other scheme", () => {
    expect(parseEnv({ DATABASE_URL: "postgres://u:p@db:5432/wf", DATABASE_POOL_SIZE: "25" })).toMatchObject({ databaseUrl: "postgres://u:p@db:5432/wf", databasePoolSize: 25 });
    expect(parseEnv({ DATABASE_URL: "file:./x.db" })).toMatchObject({ databaseUrl: "file:./x.db", databasePoolSize: 10 });
    expect(() => parseEnv({ DATABASE_URL: "mysql://u@db/wf" })).toThrow(/DATABASE_URL: expected postgres/);
    expect(() => parseEnv({ DATABASE_POOL_SIZE: "0" })).toThrow(/DATABASE_POOL_SIZE/);
  });

  it("keeps runs forever by default; RUN_RETENTION_DAYS turns retention on, and a bad value is named", () => {
    expect(parseEnv({}).retention).toBeNull();
    expect(parseEnv({ RUN_RETENTION_DAYS: "" }).retention).toBeNull();
    expect(parseEnv({ RUN_RETENTION_DAYS: "30" }).retention).toEqual({ days: 30, intervalMs: 3_600_000 });
    expect(parseEnv({ RUN_RETENTION_DAYS: "0.5", RUN_RETENTION_INTERVAL_MS: "60000" }).retention).toEqual({ days: 0.5, intervalMs: 60_000 });
    for (const bad of ["0", "-3", "forever", "1e9"]) expect(() => parseEnv({ RUN_RETENTION_DAYS: bad })).toThrow(/RUN_RETENTION_DAYS: .*leave unset to keep runs forever/);
    expect(() => parseEnv({ RUN_RETENTION_DAYS: "7", RUN_RETENTION_INTERVAL_MS: "10" })).toThrow(/RUN_RETENTION_INTERVAL_MS/);
  });

  it("allows no browser origin and no extra host by default", () => {
    expect(parseEnv({})).toMatchObject({ allowedOrigins: [], allowedHosts: [] });
  });

  it("reads ALLOWED_ORIGINS and ALLOWED_HOSTS as comma-separated lists, normalised as browsers send them", () => {
    const env = parseEnv({ ALLOWED_ORIGINS: " HTTPS://UI.Example.com , http://localhost:5173,https://x.example:443", ALLOWED_HOSTS: "Workflows.Example.com, api.example.com:8443," });
    expect(env.allowedOrigins).toEqual(["https://ui.example.com", "http://localhost:5173", "https://x.example"]);
    expect(env.allowedHosts).toEqual(["workflows.example.com", "api.example.com:8443"]);
    expect(parseEnv({ ALLOWED_HOSTS: "*" }).allowedHosts).toEqual(["*"]);
  });

  it.each([
    [{ ALLOWED_ORIGINS: "null" }, "ALLOWED_ORIGINS"],
    [{ ALLOWED_ORIGINS: "*" }, "ALLOWED_ORIGINS"],
    [{ ALLOWED_ORIGINS: "https://ui.example.com/" }, "ALLOWED_ORIGINS"],
    [{ ALLOWED_ORIGINS: "https://ui.example.com/app" }, "ALLOWED_ORIGINS"],
    [{ ALLOWED_ORIGINS: "ui.example.com" }, "ALLOWED_ORIGINS"],
    [{ ALLOWED_HOSTS: "https://api.example.com" }, "ALLOWED_HOSTS"],
    [{ ALLOWED_HOSTS: "api.example.com/x" }, "ALLOWED_HOSTS"],
  ])("rejects %o naming %s", (source, variable) => {
    expect(() => parseEnv(source)).toThrow(variable);
  });

  it.each([
    [{ PORT: "eighty" }, "PORT"],
    [{ PORT: "70000" }, "PORT"],
    [{ MODEL_PROVIDER: "anthropic" }, "MODEL_PROVIDER"],
    [{ OPENAI_API: "completions" }, "OPENAI_API"],
    [{ OPENAI_BASE_URL: "not a url" }, "OPENAI_BASE_URL"],
    [{ LOG_LEVEL: "loud" }, "LOG_LEVEL"],
    [{ MAX_INPUT_BYTES: "0" }, "MAX_INPUT_BYTES"],
    [{ MODEL_PROVIDER: "openai" }, "OPENAI_API_KEY"],
    [{ STEP_MAX_ATTEMPTS: "0" }, "STEP_MAX_ATTEMPTS"],
    [{ STEP_TIMEOUT_MS: "soon" }, "STEP_TIMEOUT_MS"],
    [{ MAX_CONCURRENT_RUNS: "0" }, "MAX_CONCURRENT_RUNS"],
    [{ RESUME_ON_START: "maybe" }, "RESUME_ON_START"],
  ])("rejects %o naming %s", (source, variable) => {
    expect(() => parseEnv(source)).toThrow(EnvError);
    expect(() => parseEnv(source)).toThrow(variable);
  });

  it("needs no key and sets no rate limit on a loopback HOST, and needs keys with 600 calls/min elsewhere", () => {
    expect(parseEnv({}).auth).toEqual({ mode: "none", rateLimitPerMin: null, openToNetwork: false });
    expect(parseEnv({ HOST: "0.0.0.0" }).auth).toEqual({ mode: "keys", rateLimitPerMin: 600, openToNetwork: false });
    expect(parseEnv({ HOST: "0.0.0.0", AUTH_MODE: "none", RATE_LIMIT_PER_MIN: "0" }).auth).toEqual({ mode: "none", rateLimitPerMin: null, openToNetwork: true });
    expect(parseEnv({ AUTH_MODE: "keys", RATE_LIMIT_PER_MIN: "30" }).auth).toEqual({ mode: "keys", rateLimitPerMin: 30, openToNetwork: false });
    expect(() => parseEnv({ AUTH_MODE: "maybe" })).toThrow(/AUTH_MODE/);
  });

  it("reads REDACT_PATTERNS as a JSON array of regular expressions and names a bad one", () => {
    expect(parseEnv({ REDACT_PATTERNS: '["ghp_[A-Za-z0-9]{36}", "xox[bp]-[0-9a-z-]+"]' }).redactPatterns).toEqual(["ghp_[A-Za-z0-9]{36}", "xox[bp]-[0-9a-z-]+"]);
    expect(parseEnv({}).redactPatterns).toEqual([]);
    expect(() => parseEnv({ REDACT_PATTERNS: '["("]' })).toThrow(/REDACT_PATTERNS/);
    expect(() => parseEnv({ REDACT_PATTERNS: "ghp_.*" })).toThrow(/REDACT_PATTERNS/);
  });

  it("sends no traces and serves /metrics on the API port by default", () => {
    expect(parseEnv({})).toMatchObject({ otlp: null, metricsPort: null });
    expect(parseEnv({ OTEL_SERVICE_NAME: "x", OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" }).otlp).toBeNull();
    expect(parseEnv({ METRICS_PORT: "9464" }).metricsPort).toBe(9464);
  });

  it("reads the standard OTEL_* variables for OTLP/HTTP trace export", () => {
    const env = parseEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318/", OTEL_EXPORTER_OTLP_HEADERS: "x-honeycomb-team=abc%3D,  other = 1", OTEL_SERVICE_NAME: "wf-prod" });
    expect(env.otlp).toEqual({ url: "http://collector:4318/v1/traces", protocol: "http/protobuf", headers: { "x-honeycomb-team": "abc=", other: "1" }, serviceName: "wf-prod" });
    expect(parseEnv({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "https://t.example/in", OTEL_EXPORTER_OTLP_PROTOCOL: "http/json", OTEL_BSP_SCHEDULE_DELAY: "100" }).otlp).toMatchObject({ url: "https://t.example/in", protocol: "http/json", serviceName: "workflows-api", scheduleDelayMs: 100 });
    expect(parseEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318", OTEL_SDK_DISABLED: "true" }).otlp).toBeNull();
  });

  it("refuses OTLP settings it cannot honour, by name", () => {
    expect(() => parseEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4317", OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" })).toThrow(/OTEL_EXPORTER_OTLP_PROTOCOL: grpc is not supported/);
    expect(() => parseEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4318" })).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT/);
    expect(() => parseEnv({ METRICS_PORT: "70000" })).toThrow(/METRICS_PORT/);
  });
});
