// `pnpm keys create --name <name> --role viewer|operator|admin` | `pnpm keys list` | `pnpm keys revoke <name>`
// Works straight on DATABASE_URL (created and migrated if needed), so the first admin key exists before the server runs.
import { parseArgs } from "node:util";
import { ApiKeyStore, openDatabase } from "@workflows/db";
import { ZodError } from "zod";
import { EnvError, loadEnv } from "../env";
import { ApiKeys, KeyNameTakenError, KeyNotFoundError } from "./apiKeys";
import { roleSchema } from "./roles";

const usage = `Usage:
  pnpm keys create --name <name> --role viewer|operator|admin   prints the new key once
  pnpm keys list                                                 names, roles, dates; never secrets
  pnpm keys revoke <name>                                        the key stops working at once`;

class UsageError extends Error {}

async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({ args: argv, allowPositionals: true, options: { name: { type: "string" }, role: { type: "string" } } });
  const [command, ...rest] = positionals;
  if (command !== "create" && command !== "list" && command !== "revoke") throw new UsageError(usage);
  const db = await openDatabase({ url: loadEnv().databaseUrl ?? null });
  try {
    const keys = new ApiKeys(new ApiKeyStore(db.prisma));
    switch (command) {
      case "create": {
        const role = roleSchema.safeParse(values.role);
        if (!values.name || !role.success) throw new UsageError(usage);
        const { key, info } = await keys.create(values.name, role.data);
        process.stderr.write(`Created key "${info.name}" (${info.role}). It is shown only this once; store it now:\n`);
        process.stdout.write(`${key}\n`);
        break;
      }
      case "list": {
        const all = await keys.list();
        if (all.length === 0) process.stdout.write("No keys.\n");
        for (const k of all) {
          const state = k.revokedAt ? `revoked ${k.revokedAt}` : "active";
          process.stdout.write(`${k.name}\t${k.role}\tcreated ${k.createdAt}\tlast used ${k.lastUsedAt ?? "never"}\t${state}\n`);
        }
        break;
      }
      case "revoke": {
        const name = rest[0] ?? values.name;
        if (!name) throw new UsageError(usage);
        await keys.revoke(name);
        process.stdout.write(`Revoked "${name}".\n`);
        break;
      }
    }
  } finally {
    await db.close();
  }
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (error: unknown) => {
    if (error instanceof UsageError || error instanceof EnvError || error instanceof KeyNameTakenError || error instanceof KeyNotFoundError) process.stderr.write(`${error.message}\n`);
    else if (error instanceof ZodError) process.stderr.write(`${error.issues.map((i) => i.message).join("\n")}\n`);
    else process.stderr.write(`keys failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
