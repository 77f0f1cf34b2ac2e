// PostgreSQL LISTEN/NOTIFY between the instances of one database: "events of run R are stored up to seq S"
// (the recorder sends it inside the batch's own transaction, so it is delivered exactly when the events
// become visible) and "cancel run R" (for the instance executing it).
import type pg from "pg";
import { Prisma } from "./client";

export const storedChannel = "workflows_stored";
export const cancelChannel = "workflows_cancel";

/** PostgreSQL refuses a payload of 8,000 bytes or more; entries are spread over several notifications. */
const MAX_PAYLOAD = 7_000;

/**
 * The `pg_notify` statements announcing a batch's runs: `<sender>|<runId>:<seq>,<runId>:<seq>…`. Run ids
 * are written as given; they must not contain `|`, `,` or end in `:<digits>` ambiguously (the parser splits
 * at the last `:`, as `tracked()` ids are parsed).
 */
export function storedNotifications(sender: string, lastSeq: ReadonlyMap<string, number>): Prisma.Sql[] {
  const statements: Prisma.Sql[] = [];
  let entries: string[] = [];
  let size = sender.length + 1;
  const flush = () => {
    if (entries.length === 0) return;
    statements.push(Prisma.sql`SELECT pg_notify(${storedChannel}, ${`${sender}|${entries.join(",")}`})`);
    entries = [];
    size = sender.length + 1;
  };
  for (const [runId, seq] of lastSeq) {
    const entry = `${runId}:${seq}`;
    if (size + entry.length + 1 > MAX_PAYLOAD) flush();
    entries.push(entry);
    size += entry.length + 1;
  }
  flush();
  return statements;
}

export function parseStored(payload: string): { sender: string; runs: { workflowRunId: string; lastSeq: number }[] } | null {
  const bar = payload.indexOf("|");
  if (bar < 0) return null;
  const runs: { workflowRunId: string; lastSeq: number }[] = [];
  for (const entry of payload.slice(bar + 1).split(",")) {
    const at = entry.lastIndexOf(":");
    const lastSeq = Number(entry.slice(at + 1));
    if (at <= 0 || !Number.isInteger(lastSeq)) continue;
    runs.push({ workflowRunId: entry.slice(0, at), lastSeq });
  }
  return { sender: payload.slice(0, bar), runs };
}

export type NotificationsOptions = {
  /** Connection string of the database (one dedicated connection is opened for LISTEN). */
  url: string;
  /** This instance's id: its own notifications are not handed back to it. */
  instanceId: string;
  /** Called when the listening connection fails (it reconnects by itself). */
  onError?: (error: unknown) => void;
};

type StoredListener = (workflowRunId: string, lastSeq: number) => void;
/** `by`: who asked (an API key's name, or `local`). */
type CancelListener = (workflowRunId: string, by: string) => void;

/**
 * One LISTEN connection per instance. Notifications sent while it is disconnected are lost: followers keep
 * their slow poll as a safety net.
 */
export class PgNotifications {
  readonly #opts: NotificationsOptions;
  readonly #stored = new Set<StoredListener>();
  readonly #cancel = new Set<CancelListener>();
  #client: pg.Client | null = null;
  #closed = false;
  #retry: NodeJS.Timeout | undefined;

  constructor(opts: NotificationsOptions) {
    this.#opts = opts;
  }

  /** Connects and listens; resolves once notifications flow. */
  async start(): Promise<void> {
    const { default: pg } = await import("pg");
    const client = new pg.Client({ connectionString: this.#opts.url, application_name: "workflows-listen" });
    client.on("notification", (message) => this.#dispatch(message.channel, message.payload ?? ""));
    client.on("error", (error) => this.#lost(client, error));
    client.on("end", () => this.#lost(client, new Error("LISTEN connection ended")));
    await client.connect();
    await client.query(`LISTEN ${storedChannel}; LISTEN ${cancelChannel}`);
    this.#client = client;
  }

  onStored(listener: StoredListener): () => void {
    this.#stored.add(listener);
    return () => this.#stored.delete(listener);
  }

  onCancel(listener: CancelListener): () => void {
    this.#cancel.add(listener);
    return () => this.#cancel.delete(listener);
  }

  /** Asks every instance to cancel the run; the one executing it does. */
  async requestCancel(pool: pg.Pool, workflowRunId: string, by: string): Promise<void> {
    await pool.query("SELECT pg_notify($1, $2)", [cancelChannel, JSON.stringify({ workflowRunId, by })]);
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retry);
    const client = this.#client;
    this.#client = null;
    await client?.end().catch(() => undefined);
  }

  #dispatch(channel: string, payload: string): void {
    if (channel === storedChannel) {
      const parsed = parseStored(payload);
      if (!parsed || parsed.sender === this.#opts.instanceId) return;
      for (const run of parsed.runs) for (const listener of this.#stored) safely(() => listener(run.workflowRunId, run.lastSeq));
    } else if (channel === cancelChannel) {
      let message: { workflowRunId?: unknown; by?: unknown };
      try {
        message = JSON.parse(payload) as typeof message;
      } catch {
        return;
      }
      if (typeof message.workflowRunId !== "string") return;
      const by = typeof message.by === "string" ? message.by : "local";
      for (const listener of this.#cancel) safely(() => listener(message.workflowRunId as string, by));
    }
  }

  #lost(client: pg.Client, error: unknown): void {
    if (this.#client !== client) return;
    this.#client = null;
    client.removeAllListeners();
    client.on("error", () => undefined);
    void client.end().catch(() => undefined);
    if (this.#closed) return;
    this.#opts.onError?.(error);
    const reconnect = () => {
      if (this.#closed) return;
      this.start().catch((failure: unknown) => {
        this.#opts.onError?.(failure);
        this.#retry = setTimeout(reconnect, 1_000);
      });
    };
    this.#retry = setTimeout(reconnect, 100);
  }
}

function safely(call: () => void): void {
  try {
    call();
  } catch {
    // A listener's bug must not stop the others.
  }
}
