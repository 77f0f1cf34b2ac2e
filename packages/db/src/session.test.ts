import type { AgentInputItem } from "@openai/agents-core";
import { afterEach, beforeEach, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../test/databases";
import { openDatabase, type Database } from "./database";
import { PrismaSession } from "./session";

let testDb: TestDatabase;
let db: Database;
beforeEach(async () => {
  testDb = await createTestDatabase();
  db = await openDatabase({ url: testDb.url });
});
afterEach(async () => {
  await db.close();
  await testDb.drop();
});

const user = (text: string): AgentInputItem => ({ role: "user", content: text });
const assistant = (text: string): AgentInputItem => ({
  role: "assistant",
  status: "completed",
  content: [{ type: "output_text", text }],
  providerData: { kept: true },
});

it("PrismaSession keeps a conversation's items across sessions, newest-N, pop and clear", async () => {
  const session = new PrismaSession(db.prisma, "conv-1");
  const other = new PrismaSession(db.prisma, "conv-2");
  expect(await session.getSessionId()).toBe("conv-1");
  await session.addItems([user("hi"), assistant("hello")]);
  await other.addItems([user("elsewhere")]);
  await session.addItems([user("again")]);

  const reopened = new PrismaSession(db.prisma, "conv-1");
  expect(await reopened.getItems()).toEqual([user("hi"), assistant("hello"), user("again")]);
  expect(await reopened.getItems(2)).toEqual([assistant("hello"), user("again")]);
  expect(await reopened.popItem()).toEqual(user("again"));
  expect(await reopened.getItems()).toEqual([user("hi"), assistant("hello")]);
  await reopened.addItems([user("after pop")]);
  expect((await reopened.getItems()).at(-1)).toEqual(user("after pop"));
  await reopened.clearSession();
  expect(await reopened.getItems()).toEqual([]);
  expect(await reopened.popItem()).toBeUndefined();
  expect(await other.getItems()).toEqual([user("elsewhere")]);
});
