// The one Prisma client type the code is written against.
//
// Prisma generates a client per provider (one schema cannot serve two), from schemas holding the same
// models and fields (schemas.test.ts). The code is typed against the SQLite client, whose JSON columns are
// text. The PostgreSQL client is given the same shape by database.ts: its jsonb columns are read back as
// JSON text and its bigint ids as numbers, so every read returns what the type says. Writes of JSON values
// go through raw SQL (sql.ts, session.ts), where PostgreSQL parses JSON text into jsonb itself.
export { Prisma, PrismaClient } from "./generated/sqlite/client";
export type { ConversationItem, ServerInstance, TraceSpan, WorkflowRun, WorkflowRunEventChunk, WorkflowRunStep } from "./generated/sqlite/client";
