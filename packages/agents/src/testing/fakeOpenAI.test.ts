import { afterEach, describe, expect, it } from "vitest";
import { startFakeOpenAI, type FakeOpenAI, type FakeOpenAIOptions } from "./fakeOpenAI";

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

describe("startFakeOpenAI faults", () => {
  const fakes: FakeOpenAI[] = [];
  afterEach(async () => {
    await Promise.all(fakes.splice(0).map((f) => f.close()));
  });
  const start = async (opts: FakeOpenAIOptions) => {
    const f = await startFakeOpenAI(opts);
    fakes.push(f);
    return f;
  };
  const post = (f: FakeOpenAI, path: string, body: Record<string, unknown> = { model: "m", input: "hi" }, signal?: AbortSignal) =>
    fetch(`${f.baseURL}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body), ...(signal ? { signal } : {}) });

  it("answers a status fault with an OpenAI-shaped error body and the given headers", async () => {
    const f = await start({ faults: [{ type: "status", status: 429, headers: { "retry-after": "3", "retry-after-ms": "2500" } }, { type: "status", status: 500, message: "boom", code: "server_overloaded" }] });
    const limited = await post(f, "/responses");
    expect([limited.status, limited.headers.get("retry-after"), limited.headers.get("retry-after-ms")]).toEqual([429, "3", "2500"]);
    expect(await limited.json()).toEqual({ error: { message: "fake fault: HTTP 429", type: "requests", param: null, code: "rate_limit_exceeded" } });
    const failed = await post(f, "/chat/completions", { model: "m", messages: [] });
    expect(failed.status).toBe(500);
    expect(await failed.json()).toEqual({ error: { message: "boom", type: "server_error", param: null, code: "server_overloaded" } });
    expect((await post(f, "/responses")).status).toBe(200);
  });

  it("gives a fault script each model request's index and body; unknown routes consume no fault", async () => {
    const seen: [number, unknown][] = [];
    const f = await start({ faults: (index, request) => (seen.push([index, request.body.model]), index === 1 ? { type: "status", status: 503 } : null) });
    expect((await fetch(`${f.baseURL}/models`)).status).toBe(404);
    const statuses = [];
    for (const model of ["a", "b", "c"]) statuses.push((await post(f, "/responses", { model, input: "hi" })).status);
    expect(statuses).toEqual([200, 503, 200]);
    expect(seen).toEqual([[0, "a"], [1, "b"], [2, "c"]]);
    expect(f.log.map((r) => r.fault?.type ?? null)).toEqual([null, null, "status", null]);
  });

  it("plays enqueued faults after those already queued", async () => {
    const f = await start({ faults: [{ type: "status", status: 500 }] });
    f.enqueueFaults({ type: "status", status: 400 }, null);
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await post(f, "/responses")).status);
    expect(statuses).toEqual([500, 400, 200, 200]);
  });

  it("keeps a hanging request open until the client aborts it, and notes that the client closed it", async () => {
    const f = await start({ faults: [{ type: "hang" }] });
    const controller = new AbortController();
    const pending = post(f, "/responses", undefined, controller.signal);
    await f.whenLogged(1);
    expect(f.inFlight).toBe(1);
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: "AbortError" });
    await f.whenIdle();
    expect([f.inFlight, f.log[0]?.clientClosed]).toEqual([0, true]);
  });

  it("closes while a request hangs; the client sees the connection end", async () => {
    const f = await startFakeOpenAI({ faults: [{ type: "hang" }] });
    const pending = post(f, "/responses");
    await f.whenLogged(1);
    await f.close();
    await expect(pending).rejects.toMatchObject({ message: "fetch failed" });
    expect(f.log[0]?.clientClosed).toBe(false);
  });

  it("cuts a streamed answer after the first delta, before the completing event", async () => {
    const f = await start({ faults: [{ type: "cut" }, { type: "cut", afterDeltas: 2 }] });
    const res = await post(f, "/responses", { model: "m", input: "hi", stream: true });
    expect(res.status).toBe(200);
    let text = "";
    const read = async () => {
      for await (const chunk of res.body ?? []) text += Buffer.from(chunk as Uint8Array).toString();
    };
    await expect(read()).rejects.toMatchObject({ message: "terminated" });
    expect(text.match(/^event: .*/gm)).toEqual(["event: response.created", "event: response.in_progress", "event: response.output_item.added", "event: response.content_part.added", "event: response.output_text.delta"]);

    const chat = await post(f, "/chat/completions", { model: "m", messages: [], stream: true });
    await expect(chat.text()).rejects.toMatchObject({ message: "terminated" });
    expect([f.log[1]?.clientClosed, f.inFlight]).toEqual([false, 0]);
  });

  it("cuts a JSON answer half-way and resets a connection before any answer", async () => {
    const f = await start({ faults: [{ type: "cut" }, { type: "reset" }] });
    const res = await post(f, "/responses");
    expect(res.status).toBe(200);
    await expect(res.json()).rejects.toMatchObject({ message: "terminated" });
    await expect(post(f, "/responses")).rejects.toMatchObject({ message: "fetch failed", cause: { code: "ECONNRESET" } });
    expect(f.received).toBe(2);
  });

  it("counts requests in flight at their peak until they are released", async () => {
    let release = () => {};
    const until = new Promise<void>((resolve) => (release = resolve));
    const f = await start({ faults: [{ type: "wait", until }, { type: "wait", until }] });
    const both = [post(f, "/responses"), post(f, "/chat/completions", { model: "m", messages: [] })];
    await f.whenLogged(2);
    expect([f.received, f.inFlight, f.peakInFlight]).toEqual([2, 2, 2]);
    release();
    expect((await Promise.all(both)).map((r) => r.status)).toEqual([200, 200]);
    await f.whenIdle();
    await post(f, "/responses");
    await f.whenIdle();
    expect([f.received, f.inFlight, f.peakInFlight]).toEqual([3, 0, 2]);
  });
});
