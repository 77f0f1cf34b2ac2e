import path from "node:path";
import { UnsupportedDatabaseUrlError } from "./errors";
import { defaultDatabasePath } from "./paths";

export type SqliteLocation = { kind: "sqlite"; /** `file:` URL with an absolute path. */ url: string; path: string };
export type PostgresLocation = {
  kind: "postgres";
  /** The URL as given (with its password, if any). */
  url: string;
  /** The URL without its password: for logs and messages. */
  display: string;
  /** Discrete connection fields. The migrator needs them: pg lets a connectionString override `database`. */
  host: string;
  port: number;
  user: string;
  password: string | undefined;
  database: string;
};
export type DatabaseLocation = SqliteLocation | PostgresLocation;

const postgresScheme = /^postgres(ql)?:\/\//i;

/**
 * Picks the database from a URL: `postgres://…` or `postgresql://…` is PostgreSQL; a `file:` URL, a bare
 * path or nothing is SQLite (nothing: the embedded file `<repo>/prisma/workflows.db`).
 */
export function resolveDatabaseUrl(url?: string | null, baseDir: string = process.cwd()): DatabaseLocation {
  if (url != null && postgresScheme.test(url)) return resolvePostgresUrl(url);
  return resolveSqliteUrl(url, baseDir);
}

/**
 * Normalises a SQLite URL (`file:./x.db`, `file:/abs/x.db`, or a bare path) to an absolute `file:` URL.
 * Relative paths resolve against `baseDir` (default: the current directory, as for any CLI argument).
 */
export function resolveSqliteUrl(url?: string | null, baseDir: string = process.cwd()): SqliteLocation {
  if (url == null || url === "") return { kind: "sqlite", url: `file:${defaultDatabasePath}`, path: defaultDatabasePath };
  if (postgresScheme.test(url)) throw new UnsupportedDatabaseUrlError(url, "expected a SQLite file: URL here.");
  const raw = url.startsWith("file:") ? url.slice("file:".length).replace(/^\/\/(?=\/)/, "") : url;
  const withoutQuery = raw.split("?")[0] ?? "";
  if (withoutQuery === "" || withoutQuery === ":memory:") {
    throw new UnsupportedDatabaseUrlError(url, "an in-memory database cannot be shared between the migrator and the client; use a file.");
  }
  const absolute = path.resolve(baseDir, withoutQuery);
  return { kind: "sqlite", url: `file:${absolute}`, path: absolute };
}

function resolvePostgresUrl(url: string): PostgresLocation {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UnsupportedDatabaseUrlError(redact(url), "not a valid URL; expected postgres://user:password@host:port/database.");
  }
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ""));
  if (parsed.hostname === "") throw new UnsupportedDatabaseUrlError(redact(url), "the URL names no host.");
  if (database === "" || database.includes("/")) {
    throw new UnsupportedDatabaseUrlError(redact(url), "the URL names no database; expected postgres://user:password@host:port/database.");
  }
  const display = new URL(url);
  if (display.password !== "") display.password = "***";
  return {
    kind: "postgres",
    url,
    display: display.toString(),
    host: parsed.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: parsed.port === "" ? 5432 : Number(parsed.port),
    user: decodeURIComponent(parsed.username) || "postgres",
    password: parsed.password === "" ? undefined : decodeURIComponent(parsed.password),
    database,
  };
}

/** A URL with its password masked, for messages. */
export function redact(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@]*@/i, "$1***@");
}

/** Where the database is, for logs: the file path, or the PostgreSQL URL without its password. */
export function describeLocation(location: DatabaseLocation): string {
  return location.kind === "sqlite" ? location.path : location.display;
}
