import type { ModelConfig } from "@workflows/agents";
import { z } from "zod";
import { isLoopbackAddress } from "./http/requestGuard";
import type { RetentionConfig } from "./runs/retention";
import type { OtlpConfig } from "./telemetry/otlpExport";

const logLevels = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

const emptyAsUndefined = (v: unknown) => (typeof v === "string" && v.trim() === "" ? undefined : v);
const optionalString = z.preprocess(emptyAsUndefined, z.string().optional());
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** A comma-separated list; blanks around entries and empty entries are dropped. */
const list = <T extends z.ZodType<string>>(entry: T) =>
  z.preprocess(
    (v) => (typeof v === "string" ? v.split(",").map((s) => s.trim()).filter((s) => s !== "") : []),
    z.array(entry),
  );

/** An exact origin as browsers send it (`https://ui.example.com`, `http://localhost:5173`), normalised. */
const origin = z.string().transform((value, ctx) => {
  const url = URL.canParse(value) ? new URL(value) : null;
  const plain = url && (url.protocol === "http:" || url.protocol === "https:") && url.pathname === "/" && !url.search && !url.hash && !url.username && !value.endsWith("/");
  if (!url || !plain) {
    ctx.addIssue({ code: "custom", message: `"${value}" is not an origin: scheme://host[:port], no path or trailing slash` });
    return z.NEVER;
  }
  return url.origin;
});

/** A host name as in a Host header, optionally with a port (`api.example.com`, `api.example.com:8443`, `[::1]`), or `*`. */
const hostName = z
  .string()
  .transform((v) => v.toLowerCase())
  .refine((v) => v === "*" || /^([a-z0-9_-]+(\.[a-z0-9_-]+)*|\[[0-9a-f:.]+\])(:\d{1,5})?$/.test(v), { message: "expected host names such as api.example.com or api.example.com:8443, or *" });

/** A JSON array of regular expression sources, each checked to compile. */
const patternList = z.preprocess(
  (v) => {
    if (typeof v !== "string" || v.trim() === "") return [];
    try {
      return JSON.parse(v) as unknown;
    } catch {
      return v;
    }
  },
  z.array(
    z.string().refine(
      (p) => {
        try {
          new RegExp(p, "g");
          return true;
        } catch {
          return false;
        }
      },
      { message: "not a valid regular expression" },
    ),
    { error: 'expected a JSON array of regular expressions, e.g. ["ghp_[A-Za-z0-9]{36}"]' },
  ),
);
const otlpProtocols = ["http/protobuf", "http/json", "grpc"] as const;

/** `key1=value1,key2=value2` with percent-encoded values, as OTEL_EXPORTER_OTLP_HEADERS is written. */
const otlpHeaders = z.string().transform((text, ctx) => {
  const headers: Record<string, string> = {};
  for (const pair of text.split(",")) {
    if (pair.trim() === "") continue;
    const at = pair.indexOf("=");
    const key = at > 0 ? pair.slice(0, at).trim() : "";
    if (key === "") {
      ctx.addIssue({ code: "custom", message: "expected key=value pairs separated by commas" });
      return z.NEVER;
    }
    try {
      headers[key] = decodeURIComponent(pair.slice(at + 1).trim());
    } catch {
      headers[key] = pair.slice(at + 1).trim();
    }
  }
  return headers;
});

const rawEnvSchema = z.object({
  HOST: z.preprocess(emptyAsUndefined, z.string().default("127.0.0.1")),
  PORT: z.preprocess(emptyAsUndefined, int(0, 65_535).default(3000)),
  /** `postgres://user:password@host:port/db` (PostgreSQL) or `file:/path/to.db` (SQLite); the embedded SQLite file when absent. */
  DATABASE_URL: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .refine((v) => /^(postgres(ql)?:\/\/|file:)/i.test(v) || !/^[a-z][a-z0-9+.-]*:\/\//i.test(v), { message: "expected postgres://…, postgresql://… or a SQLite file: URL" })
      .optional(),
  ),
  /** PostgreSQL: most connections this server opens (Prisma's pool; the job queue and LISTEN use a few more). */
  DATABASE_POOL_SIZE: z.preprocess(emptyAsUndefined, int(1, 1_000).default(10)),
  MODEL_PROVIDER: z.preprocess(emptyAsUndefined, z.enum(["offline", "openai"]).optional()),
  OPENAI_API_KEY: optionalString,
  OPENAI_BASE_URL: z.preprocess(emptyAsUndefined, z.url().optional()),
  OPENAI_API: z.preprocess(emptyAsUndefined, z.enum(["responses", "chat_completions"]).default("responses")),
  OPENAI_MODEL: optionalString,
  /** Offline model only: pause between streamed pieces, to watch streaming or try cancellation by hand. */
  OFFLINE_DELAY_MS: z.preprocess(emptyAsUndefined, int(0, 10_000).default(0)),
  LOG_LEVEL: z.preprocess(emptyAsUndefined, z.enum(logLevels).default("info")),
  /** Largest accepted `input`/`message`, in UTF-8 bytes. */
  MAX_INPUT_BYTES: z.preprocess(emptyAsUndefined, int(1, 50 * 1024 * 1024).default(64 * 1024)),
  /** How long shutdown waits for in-flight runs before aborting them. */
  SHUTDOWN_GRACE_MS: z.preprocess(emptyAsUndefined, int(0, 10 * 60_000).default(10_000)),
  /** Attempts per step and agent, the first included, for steps that do not set `retry.maxAttempts`. */
  STEP_MAX_ATTEMPTS: z.preprocess(emptyAsUndefined, int(1, 100).default(3)),
  /** Cap of the first retry's delay (doubling per retry, full jitter, at most 30 s). */
  STEP_RETRY_BASE_DELAY_MS: z.preprocess(emptyAsUndefined, int(0, 3_600_000).default(1_000)),
  /** Time limit of each attempt of a step that does not set `timeoutMs`. */
  STEP_TIMEOUT_MS: z.preprocess(emptyAsUndefined, int(1, 24 * 3_600_000).default(600_000)),
  /** Runs executing at once in this server; the rest wait `pending`, in order. */
  MAX_CONCURRENT_RUNS: z.preprocess(emptyAsUndefined, int(1, 10_000).default(16)),
  /** Resume, at start-up and periodically, runs whose server died; `false` marks them interrupted instead. */
  RESUME_ON_START: z.preprocess(emptyAsUndefined, z.enum(["true", "false", "1", "0"]).default("true")),
  /** How often this server records that it is alive (and looks for runs of dead servers). */
  HEARTBEAT_INTERVAL_MS: z.preprocess(emptyAsUndefined, int(100, 600_000).default(5_000)),
  /** A server whose heartbeat is older than this is dead; its runs are taken over. */
  OWNER_TIMEOUT_MS: z.preprocess(emptyAsUndefined, int(500, 3_600_000).default(20_000)),
  /** Finished runs older than this many days are deleted (periodically, in small batches). Default: kept forever. */
  RUN_RETENTION_DAYS: z.preprocess(
    emptyAsUndefined,
    z.coerce
      .number({ error: "expected a number of days, e.g. 30 (leave unset to keep runs forever)" })
      .positive({ error: "expected a number of days above 0 (leave unset to keep runs forever)" })
      .max(36_500, { error: "at most 36500 days (leave unset to keep runs forever)" })
      .optional(),
  ),
  /** How often the retention sweep runs (with RUN_RETENTION_DAYS). */
  RUN_RETENTION_INTERVAL_MS: z.preprocess(emptyAsUndefined, int(1_000, 7 * 86_400_000).default(3_600_000)),
  /** Origins of web pages allowed to call the API (HTTP with CORS, WebSocket). Default: none. */
  ALLOWED_ORIGINS: list(origin),
  /** Host names the server answers to besides the loopback names; `*` for any. See docs/security.md. */
  ALLOWED_HOSTS: list(hostName),
  /** `keys`: calls need an API key. Default: `none` when HOST is a loopback address, `keys` otherwise. */
  AUTH_MODE: z.preprocess(emptyAsUndefined, z.enum(["none", "keys"]).optional()),
  /** Calls per minute per key; 0 turns the limit off. Default: off on a loopback HOST, 600 otherwise. */
  RATE_LIMIT_PER_MIN: z.preprocess(emptyAsUndefined, int(0, 1_000_000).optional()),
  /** Extra secret patterns to redact from what is stored and logged, as a JSON array of regular expressions. */
  REDACT_PATTERNS: patternList,
  /** Serve `/metrics` on this port (same HOST) instead of the API port. */
  METRICS_PORT: z.preprocess(emptyAsUndefined, int(0, 65_535).optional()),
  // OpenTelemetry's standard variables (https://opentelemetry.io/docs/specs/otel/protocol/exporter/): traces are exported only with an endpoint.
  OTEL_SDK_DISABLED: z.preprocess(emptyAsUndefined, z.enum(["true", "false"]).default("false")),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.preprocess(emptyAsUndefined, z.url({ protocol: /^https?$/ }).optional()),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.preprocess(emptyAsUndefined, z.url({ protocol: /^https?$/ }).optional()),
  OTEL_EXPORTER_OTLP_PROTOCOL: z.preprocess(emptyAsUndefined, z.enum(otlpProtocols).optional()),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: z.preprocess(emptyAsUndefined, z.enum(otlpProtocols).optional()),
  OTEL_EXPORTER_OTLP_HEADERS: z.preprocess(emptyAsUndefined, otlpHeaders.optional()),
  OTEL_EXPORTER_OTLP_TRACES_HEADERS: z.preprocess(emptyAsUndefined, otlpHeaders.optional()),
  OTEL_SERVICE_NAME: z.preprocess(emptyAsUndefined, z.string().default("workflows-api")),
  OTEL_BSP_SCHEDULE_DELAY: z.preprocess(emptyAsUndefined, int(0, 600_000).optional()),
});

export type Env = {
  host: string;
  port: number;
  databaseUrl: string | undefined;
  databasePoolSize: number;
  model: ModelConfig;
  logLevel: (typeof logLevels)[number];
  maxInputBytes: number;
  shutdownGraceMs: number;
  durability: DurabilityConfig;
  allowedOrigins: string[];
  allowedHosts: string[];
  auth: {
    mode: "none" | "keys";
    /** null: no limit. */
    rateLimitPerMin: number | null;
    /** True when the API is reachable from other machines without keys: start-up warns loudly. */
    openToNetwork: boolean;
  };
  redactPatterns: string[];
  /** Own port for `/metrics`; null: served on the API port. */
  metricsPort: number | null;
  /** OTLP trace export; null when no endpoint is set (nothing is sent). */
  otlp: OtlpConfig | null;
  /** RUN_RETENTION_DAYS; null: finished runs are kept forever. */
  retention: RetentionConfig | null;
};

/** Retries, time limits, admission and recovery (docs/adr/0002-durable-execution.md). */
export type DurabilityConfig = {
  stepMaxAttempts: number;
  stepRetryBaseDelayMs: number;
  stepTimeoutMs: number;
  maxConcurrentRuns: number;
  resumeOnStart: boolean;
  heartbeatIntervalMs: number;
  ownerTimeoutMs: number;
};

/** A configuration value that cannot be used; the message names the variable. */
export class EnvError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Reads and validates the configuration; the only place that looks at the environment. */
export function parseEnv(source: Record<string, string | undefined>): Env {
  const parsed = rawEnvSchema.safeParse(source);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join(".") || "(env)"}: ${i.message}`);
    throw new EnvError(`Invalid configuration:\n  ${lines.join("\n  ")}`);
  }
  const e = parsed.data;
  const provider = e.MODEL_PROVIDER ?? (e.OPENAI_API_KEY ? "openai" : "offline");
  let model: ModelConfig;
  if (provider === "openai") {
    // Local OpenAI-compatible servers (Ollama, vLLM) ignore the key, but the client insists on one.
    const apiKey = e.OPENAI_API_KEY ?? (e.OPENAI_BASE_URL ? "unused" : undefined);
    if (!apiKey) throw new EnvError("Invalid configuration:\n  OPENAI_API_KEY: required when MODEL_PROVIDER=openai (or set OPENAI_BASE_URL for a local server)");
    model = {
      provider: "openai",
      apiKey,
      api: e.OPENAI_API,
      ...(e.OPENAI_BASE_URL ? { baseURL: e.OPENAI_BASE_URL } : {}),
      ...(e.OPENAI_MODEL ? { model: e.OPENAI_MODEL } : {}),
    };
  } else {
    model = e.OFFLINE_DELAY_MS > 0 ? { provider: "offline", delayMs: e.OFFLINE_DELAY_MS } : { provider: "offline" };
  }
  const loopback = isLoopbackAddress(e.HOST);
  const authMode = e.AUTH_MODE ?? (loopback ? "none" : "keys");
  const rateLimit = e.RATE_LIMIT_PER_MIN ?? (loopback ? 0 : 600);
  return {
    host: e.HOST,
    port: e.PORT,
    databaseUrl: e.DATABASE_URL,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    model,
    logLevel: e.LOG_LEVEL,
    maxInputBytes: e.MAX_INPUT_BYTES,
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    durability: {
      stepMaxAttempts: e.STEP_MAX_ATTEMPTS,
      stepRetryBaseDelayMs: e.STEP_RETRY_BASE_DELAY_MS,
      stepTimeoutMs: e.STEP_TIMEOUT_MS,
      maxConcurrentRuns: e.MAX_CONCURRENT_RUNS,
      resumeOnStart: e.RESUME_ON_START === "true" || e.RESUME_ON_START === "1",
      heartbeatIntervalMs: e.HEARTBEAT_INTERVAL_MS,
      ownerTimeoutMs: e.OWNER_TIMEOUT_MS,
    },
    allowedOrigins: e.ALLOWED_ORIGINS,
    allowedHosts: e.ALLOWED_HOSTS,
    auth: { mode: authMode, rateLimitPerMin: rateLimit === 0 ? null : rateLimit, openToNetwork: authMode === "none" && !loopback },
    redactPatterns: e.REDACT_PATTERNS,
    metricsPort: e.METRICS_PORT ?? null,
    otlp: otlpConfig(e),
    retention: e.RUN_RETENTION_DAYS === undefined ? null : { days: e.RUN_RETENTION_DAYS, intervalMs: e.RUN_RETENTION_INTERVAL_MS },
  };
}

function otlpConfig(e: z.infer<typeof rawEnvSchema>): OtlpConfig | null {
  const url = e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? (e.OTEL_EXPORTER_OTLP_ENDPOINT ? `${e.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, "")}/v1/traces` : undefined);
  if (e.OTEL_SDK_DISABLED === "true" || url === undefined) return null;
  const protocol = e.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? e.OTEL_EXPORTER_OTLP_PROTOCOL ?? "http/protobuf";
  if (protocol === "grpc") throw new EnvError("Invalid configuration:\n  OTEL_EXPORTER_OTLP_PROTOCOL: grpc is not supported; use http/protobuf (port 4318) or http/json");
  return {
    url,
    protocol,
    headers: { ...e.OTEL_EXPORTER_OTLP_HEADERS, ...e.OTEL_EXPORTER_OTLP_TRACES_HEADERS },
    serviceName: e.OTEL_SERVICE_NAME,
    ...(e.OTEL_BSP_SCHEDULE_DELAY === undefined ? {} : { scheduleDelayMs: e.OTEL_BSP_SCHEDULE_DELAY }),
  };
}

let cached: Env | undefined;
/** The process configuration, read once. */
export function loadEnv(): Env {
  cached ??= parseEnv(process.env);
  return cached;
}
