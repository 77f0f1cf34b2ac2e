import { SystemFaultError } from "@workflows/core";

export type DatabaseMigrationProblem =
  /** The database has migrations this code does not ship: it was migrated by a newer version. */
  | "database-newer-than-code"
  /** `migrate dev` found history the schema engine cannot build on (drift, edited migration). */
  | "reset-needed"
  /** The schema engine failed (a migration's SQL failed, a previous migration is marked failed, ...). */
  | "engine-failed";

/** Migrating the database failed or was refused; `problem` says which case. */
export class DatabaseMigrationError extends SystemFaultError {
  constructor(
    readonly problem: DatabaseMigrationProblem,
    message: string,
    readonly migrationNames: readonly string[] = [],
    options?: ErrorOptions,
  ) {
    super("STORAGE_ERROR", message, options);
  }
}

/** A database URL this package cannot open (not SQLite, or in-memory). */
export class UnsupportedDatabaseUrlError extends SystemFaultError {
  constructor(
    readonly url: string,
    reason: string,
  ) {
    super("STORAGE_ERROR", `Cannot open database "${url}": ${reason}`);
  }
}
