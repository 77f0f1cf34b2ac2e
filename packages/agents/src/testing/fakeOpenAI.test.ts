import { afterEach, describe, expect, it } from "vitest";
import { startFakeOpenAI, type FakeOpenAI } from "./fakeOpenAI";

describe("startFakeOpenAI", () => {
  let fake: FakeOpenAI | undefined;
  afterEach(() => fake?.close());

  it("builds tool arguments from the tool's schema and logs the request", async () => {
    fake = await startFakeOpenAI();
    const res = await fetch(`${fake.baseURL}/responses`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer k" },
      body: JSON.stringify({ model: "m", input: "hi", tools: [{ type: "function", name: "t", parameters: { type: "object", properties: { q: { type: "string" }, n: { type: "number" } } } }] }),
    });
    const body = (await res.json()) as { output: { type: string; arguments?: string }[] };
    expect(body.output[0]).toMatchObject({ type: "function_call", arguments: '{"q":"from-fake","n":0}' });
    expect(fake.log).toEqual([expect.objectContaining({ method: "POST", path: "/v1/responses", stream: false, keys: ["input", "model", "tools"], headers: { authorization: "Bearer k", userAgent: expect.any(String) as unknown } })]);
  });

  it("answers a malformed body and an unknown route with OpenAI-shaped errors", async () => {
    fake = await startFakeOpenAI();
    const bad = await fetch(`${fake.baseURL}/responses`, { method: "POST", body: "{" });
    expect(bad.status).toBe(400);
    const missing = await fetch(`${fake.baseURL}/models`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: { message: "no route GET /v1/models", type: "invalid_request_error" } });
  });
});
