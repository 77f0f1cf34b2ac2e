import { startFakeOpenAI, type FakeOpenAI } from "@workflows/agents/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { collect, isEnd, startTestServer, tempDir, type TestServer } from "./harness";

const tmp = tempDir();
let fake: FakeOpenAI;
beforeAll(async () => {
  fake = await startFakeOpenAI({ text: (ctx) => `fake ${ctx.api} answer${ctx.toolOutputs.length ? ` using ${ctx.toolOutputs.length} tool output(s)` : ""}` });
});
afterAll(async () => {
  await fake.close();
  await tmp.remove();
});

describe.each(["responses", "chat_completions"] as const)("the OpenAI provider through the server (%s)", (api) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ dbUrl: `${tmp.dbUrl}.${api}`, model: { provider: "openai", apiKey: "sk-test-not-real", baseURL: fake.baseURL, api, model: "gpt-fake" } });
  });
  afterAll(() => t.close());

  it("health names the provider without the key", async () => {
    const health = await t.sse.health.query();
    expect(health.modelProvider).toBe("openai");
    expect(JSON.stringify(health)).not.toContain("sk-test");
  });

  it("runs analysis_code against the fake API, tool call included, and streams it", async () => {
    const before = fake.log.length;
    const result = await t.sse.workflows.run.mutate({ key: "analysis_code", input: "mean of 1, 2, 3" });
    expect(result.status).toBe("succeeded");
    expect(result.steps[0]?.output).toContain(`fake ${api} answer using 1 tool output`);
    const requests = fake.log.slice(before);
    expect(requests.every((r) => r.path === (api === "responses" ? "/v1/responses" : "/v1/chat/completions"))).toBe(true);
    expect(requests.every((r) => r.headers.authorization === "Bearer sk-test-not-real")).toBe(true);
    expect(requests.some((r) => r.body.model === "gpt-fake")).toBe(true);

    const events = await collect(t.ws.workflows.runStream.subscribe({ key: "analysis_code", input: "mean of 4, 5" }), { until: isEnd });
    expect(events.at(-1)?.data.type).toBe("run.completed");
    expect(events.some((e) => e.data.type === "step.delta")).toBe(true);
  });

  it("chat works through the same provider", async () => {
    const answer = await t.sse.chat.send.mutate({ message: "hello", agentKey: "writer" });
    expect(answer.output).toBe(`fake ${api} answer`);
  });
});
