import path from "node:path";
import { fileURLToPath } from "node:url";

/** The folder of this package, found from this file so neither cwd nor bundling of callers matter. */
export const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const schemaPath = path.join(packageDir, "prisma", "schema.prisma");
export const postgresSchemaPath = path.join(packageDir, "prisma", "postgres", "schema.prisma");
export const migrationsDir = path.join(packageDir, "prisma", "migrations");
export const postgresMigrationsDir = path.join(packageDir, "prisma", "postgres", "migrations");
/** `<repo>/prisma/workflows.db`, the embedded database used when no URL is given. */
export const defaultDatabasePath = path.resolve(packageDir, "..", "..", "prisma", "workflows.db");
