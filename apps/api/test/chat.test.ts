import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { collect, startTestServer, tempDir, type TestServer } from "./harness";

let t: TestServer;
const tmp = tempDir();
beforeAll(async () => {
  t = await startTestServer({ dbUrl: tmp.dbUrl });
});
afterAll(async () => {
  await t.close();
  await tmp.remove();
});

describe("chat", () => {
  it("triage hands off to the billing specialist, and the conversation is remembered", async () => {
    const first = await t.sse.chat.send.mutate({ message: "I was charged twice for my subscription, can I get a refund?" });
    expect(first.agentKey).toBe("triage");
    expect(first.lastAgent).toBe("billing_specialist");
    expect(first.handoffs).toEqual([{ fromAgentKey: "triage", toAgentKey: "billing_specialist" }]);
    expect(first.output.length).toBeGreaterThan(0);
    expect(first.usage.requests).toBeGreaterThan(0);
    expect(first.conversationId).toBeTruthy();

    const second = await t.sse.chat.send.mutate({ message: "Thanks. Anything else?", conversationId: first.conversationId, agentKey: "writer" });
    expect(second.conversationId).toBe(first.conversationId);
    expect(second.lastAgent).toBe("writer");
    const items = await t.services.openSession(first.conversationId).getItems();
    expect(items.length).toBeGreaterThanOrEqual(4);
  });

  it("chat.stream sends deltas and the handoff, then the answer", async () => {
    for (const client of [t.sse, t.ws]) {
      const events = await collect(client.chat.stream.subscribe({ message: "The app crashes with an error on start" }));
      expect(events[0]).toMatchObject({ type: "started", agentKey: "triage" });
      expect(events).toContainEqual({ type: "handoff", fromAgentKey: "triage", toAgentKey: "tech_specialist" });
      expect(events.some((e) => e.type === "delta")).toBe(true);
      const last = events.at(-1);
      expect(last?.type).toBe("completed");
      if (last?.type === "completed") expect(last.answer.lastAgent).toBe("tech_specialist");
    }
  });

  it("an unknown agent is NOT_FOUND", async () => {
    await expect(t.sse.chat.send.mutate({ message: "hi", agentKey: "nobody" })).rejects.toMatchObject({ data: { code: "NOT_FOUND" } });
  });
});
