// Offline stand-in for `prisma migrate dev|deploy` (the native schema engine cannot be downloaded here).
//   pnpm db:migrate <name>   create a migration from schema.prisma changes, then apply it
//   pnpm db:deploy           apply pending migrations
// DATABASE_URL picks the database: a SQLite file (default <repo>/prisma/workflows.db) or a postgres:// URL.
// Each kind has its own schema and migrations (prisma/schema.prisma, prisma/postgres/schema.prisma): a schema
// change is made in both, then `pnpm db:migrate <name>` is run once per kind.
import { createMigration, migrateDatabase } from "../src/migrate/migrate";
import { describeLocation, resolveDatabaseUrl } from "../src/url";
import { messageOf } from "../src/migrate/engine";

const log = (line: string) => console.log(line);

async function main(): Promise<void> {
  const [command, name] = process.argv.slice(2);
  const url = process.env.DATABASE_URL || undefined;
  console.log(`Database: ${describeLocation(resolveDatabaseUrl(url))}`);
  switch (command) {
    case "dev": {
      if (!name) throw new Error("Usage: pnpm db:migrate <migration_name>");
      const result = await createMigration(name, { url, log });
      console.log(result.created ? `Done: created and applied ${result.created}.` : "Done: schema unchanged.");
      break;
    }
    case "deploy": {
      const result = await migrateDatabase(url, { log });
      console.log(result.applied.length > 0 ? `Done: applied ${result.applied.length} migration(s).` : "Done: nothing to apply.");
      break;
    }
    default:
      throw new Error(`Unknown command "${command ?? ""}". Use "dev <name>" or "deploy".`);
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`Migration failed: ${messageOf(error)}`);
    process.exit(1);
  },
);
