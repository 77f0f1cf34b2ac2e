import path from "node:path";
import { UnsupportedDatabaseUrlError } from "./errors";
import { defaultDatabasePath } from "./paths";

export type SqliteLocation = { kind: "sqlite"; /** `file:` URL with an absolute path. */ url: string; path: string };

/**
 * Normalises a SQLite URL (`file:./x.db`, `file:/abs/x.db`, or a bare path) to an absolute `file:` URL.
 * Relative paths resolve against `baseDir` (default: the current directory, as for any CLI argument).
 */
export function resolveSqliteUrl(url?: string | null, baseDir: string = process.cwd()): SqliteLocation {
  if (url == null || url === "") return { kind: "sqlite", url: `file:${defaultDatabasePath}`, path: defaultDatabasePath };
  if (/^postgres(ql)?:\/\//i.test(url)) throw new UnsupportedDatabaseUrlError(url, "PostgreSQL is not supported yet; use a SQLite file: URL.");
  const raw = url.startsWith("file:") ? url.slice("file:".length).replace(/^\/\/(?=\/)/, "") : url;
  const withoutQuery = raw.split("?")[0] ?? "";
  if (withoutQuery === "" || withoutQuery === ":memory:") {
    throw new UnsupportedDatabaseUrlError(url, "an in-memory database cannot be shared between the migrator and the client; use a file.");
  }
  const absolute = path.resolve(baseDir, withoutQuery);
  return { kind: "sqlite", url: `file:${absolute}`, path: absolute };
}
