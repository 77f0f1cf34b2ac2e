// pnpm db:copy --from <url> --to <url>: copies runs, steps, events, spans and chat history into an empty
// database (migrated first), then checks the counts. Typically: --from file:./prisma/workflows.db --to postgres://…
import { copyDatabase } from "../src/copy";
import { messageOf } from "../src/migrate/engine";
import { describeLocation, resolveDatabaseUrl } from "../src/url";

function option(name: string): string | undefined {
  const args = process.argv.slice(2);
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? args[at + 1] : args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

async function main(): Promise<void> {
  const from = option("from");
  const to = option("to");
  if (!from || !to) throw new Error("Usage: pnpm db:copy --from <database URL> --to <database URL>");
  console.log(`Copying ${describeLocation(resolveDatabaseUrl(from))} to ${describeLocation(resolveDatabaseUrl(to))}`);
  const result = await copyDatabase({ from, to, log: (line) => console.log(line) });
  const c = result.copied;
  console.log(`Done: ${c.runs} runs, ${c.steps} steps, ${c.chunks} event chunks, ${c.packs} event packs, ${c.spans} spans, ${c.conversationItems} conversation items; counts match.`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`Copy failed: ${messageOf(error)}`);
    process.exit(1);
  },
);
