// The schema engine applying pending migrations, in a child process of its own (migrate.ts forks it and sends
// the request): the engine's WebAssembly (5 MB, compiled into about 40 MB of code and tables) and its memory
// end with the process instead of staying in the server for its lifetime.
import type { DatabaseLocation } from "../url";
import { messageOf, noFilters, openSchemaEngine, readMigrationsList } from "./engine";

export type ApplyRequest = { location: DatabaseLocation; schema: { path: string; content: string }; migrationsDir: string };
/** The migrations applied, or why the engine failed (its message, with the driver's own when it has one). */
export type ApplyReply = { applied: string[] } | { failure: string };

async function apply({ location, schema, migrationsDir }: ApplyRequest): Promise<ApplyReply> {
  let session;
  try {
    session = await openSchemaEngine({ location, schema });
  } catch (error) {
    return { failure: messageOf(error) };
  }
  try {
    const out = await session.engine.applyMigrations({ migrationsList: readMigrationsList(migrationsDir), filters: noFilters });
    return { applied: out.appliedMigrationNames };
  } catch (error) {
    return { failure: session.explain(error) };
  } finally {
    await session.close();
  }
}

process.once("message", (request: ApplyRequest) => {
  void apply(request).then((reply) => process.send?.(reply, () => process.exit(0)));
});
