import type { AgentInputItem, Session } from "@openai/agents-core";
import { z } from "zod";
import { exclusive } from "./exclusive";
import { Prisma, type PrismaClient } from "./client";

const storedItemSchema = z.record(z.string(), z.unknown());

/** Items are stored as the SDK gave them (JSON text); reading checks they are still objects. */
function itemOf(text: string): AgentInputItem {
  // AgentInputItem has an open `UnknownItem` member, so any object written by addItems is one;
  // parsing with the SDK's protocol schemas would strip fields it does not know.
  return storedItemSchema.parse(JSON.parse(text)) as AgentInputItem;
}

/** Agents SDK chat history kept in the database, one row per item, keyed by conversation id. */
export class PrismaSession implements Session {
  constructor(
    private readonly prisma: PrismaClient,
    readonly conversationId: string,
  ) {}

  getSessionId(): Promise<string> {
    return Promise.resolve(this.conversationId);
  }

  /** All items, or the newest `limit` of them, oldest first. */
  getItems(limit?: number): Promise<AgentInputItem[]> {
    return exclusive(this.prisma, async () => {
      if (limit !== undefined && limit <= 0) return [];
      const rows = await this.prisma.conversationItem.findMany({
        where: { conversationId: this.conversationId },
        orderBy: { position: limit === undefined ? "asc" : "desc" },
        ...(limit === undefined ? {} : { take: limit }),
        select: { item: true },
      });
      if (limit !== undefined) rows.reverse();
      return rows.map((r) => itemOf(r.item));
    });
  }

  addItems(items: AgentInputItem[]): Promise<void> {
    if (items.length === 0) return Promise.resolve();
    return exclusive(this.prisma, () =>
      this.prisma.$transaction(async (tx) => {
        const last = await tx.conversationItem.aggregate({ where: { conversationId: this.conversationId }, _max: { position: true } });
        const start = (last._max.position ?? 0) + 1;
        const createdAt = new Date();
        // Raw SQL: the JSON text lands in a TEXT column on SQLite and is parsed into jsonb by PostgreSQL.
        const rows = items.map((item, i) => Prisma.sql`(${this.conversationId}, ${start + i}, ${JSON.stringify(item)}, ${createdAt})`);
        await tx.$executeRaw`INSERT INTO "ConversationItem" ("conversationId", "position", "item", "createdAt") VALUES ${Prisma.join(rows)}`;
      }),
    );
  }

  popItem(): Promise<AgentInputItem | undefined> {
    return exclusive(this.prisma, () =>
      this.prisma.$transaction(async (tx) => {
        const last = await tx.conversationItem.findFirst({ where: { conversationId: this.conversationId }, orderBy: { position: "desc" } });
        if (!last) return undefined;
        await tx.conversationItem.delete({ where: { id: last.id } });
        return itemOf(last.item);
      }),
    );
  }

  clearSession(): Promise<void> {
    return exclusive(this.prisma, async () => {
      await this.prisma.conversationItem.deleteMany({ where: { conversationId: this.conversationId } });
    });
  }
}
