import { MaxTurnsExceededError, ModelBehaviorError, InputGuardrailTripwireTriggered, ToolCallError } from "@openai/agents-core";
import { describe, expect, it } from "vitest";
import { StepTimeoutError } from "./errors";
import { classifyAttemptFailure, retryAfterOf, StepFailure } from "./failures";

const http = (status: number, headers: Record<string, string> = {}) => Object.assign(new Error(`${status} status code`), { status, headers: new Headers(headers) });
const withCause = (message: string, cause: unknown) => new Error(message, { cause });

describe("classifyAttemptFailure", () => {
  it.each([
    ["HTTP 408", http(408), "MODEL_ERROR", true],
    ["HTTP 409", http(409), "MODEL_ERROR", true],
    ["HTTP 429", http(429), "MODEL_ERROR", true],
    ["HTTP 500", http(500), "MODEL_ERROR", true],
    ["HTTP 502", http(502), "MODEL_ERROR", true],
    ["HTTP 503", http(503), "MODEL_ERROR", true],
    ["HTTP 400", http(400), "MODEL_ERROR", false],
    ["HTTP 401", http(401), "MODEL_ERROR", false],
    ["HTTP 403", http(403), "MODEL_ERROR", false],
    ["HTTP 404", http(404), "MODEL_ERROR", false],
    ["HTTP 422", http(422), "MODEL_ERROR", false],
    ["connection reset", withCause("Connection error.", Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" })), "MODEL_ERROR", true],
    ["connection refused", Object.assign(new Error("Connection error."), { name: "APIConnectionError" }), "MODEL_ERROR", true],
    ["stream cut mid-response", Object.assign(new TypeError("terminated"), { cause: Object.assign(new Error("other side closed"), { code: "UND_ERR_SOCKET" }) }), "MODEL_ERROR", true],
    ["step timeout", new StepTimeoutError(50), "STEP_TIMEOUT", true],
    ["max turns exceeded", new MaxTurnsExceededError("Max turns (2) exceeded"), "MAX_TURNS_EXCEEDED", false],
    ["output not matching the schema", new StepFailure("INVALID_OUTPUT", "bad"), "INVALID_OUTPUT", false],
    ["model behaviour", new ModelBehaviorError("bad json"), "INVALID_OUTPUT", false],
    ["guardrail trip", new InputGuardrailTripwireTriggered("tripped", { guardrail: { type: "input", name: "g" }, output: { tripwireTriggered: true, outputInfo: null } }), "GUARDRAIL_TRIPPED", false],
    ["tool error", new ToolCallError("tool broke", new Error("x")), "TOOL_ERROR", false],
    ["mapper error", new StepFailure("MAPPER_ERROR", "mapper threw"), "MAPPER_ERROR", false],
    ["guard error", new StepFailure("GUARD_ERROR", "guard threw"), "GUARD_ERROR", false],
    ["an unknown error", new Error("boom"), "MODEL_ERROR", false],
  ])("%s -> %s, retryable %s", (_name, error, code, retryable) => {
    expect(classifyAttemptFailure(error)).toMatchObject({ code, retryable });
  });

  it("bounds the message", () => {
    expect(classifyAttemptFailure(new Error("x".repeat(2000))).message.length).toBeLessThanOrEqual(501);
  });
});

describe("retryAfterOf", () => {
  const now = Date.parse("2026-11-28T10:00:00Z");
  it("reads Retry-After in seconds", () => {
    expect(retryAfterOf(http(429, { "retry-after": "7" }), now)).toBe(7_000);
  });
  it("reads Retry-After as an HTTP date", () => {
    expect(retryAfterOf(http(503, { "Retry-After": "Sat, 28 Nov 2026 10:00:12 GMT" }), now)).toBe(12_000);
    expect(retryAfterOf(http(503, { "retry-after": "Sat, 28 Nov 2026 09:00:00 GMT" }), now)).toBe(0);
  });
  it("prefers retry-after-ms", () => {
    expect(retryAfterOf(http(429, { "retry-after-ms": "250", "retry-after": "7" }), now)).toBe(250);
  });
  it("is null without a usable header, and for plain header records too", () => {
    expect(retryAfterOf(http(500), now)).toBeNull();
    expect(retryAfterOf(http(500, { "retry-after": "soon" }), now)).toBeNull();
    expect(retryAfterOf(Object.assign(new Error("x"), { headers: { "Retry-After": "2" } }), now)).toBe(2_000);
  });
  it("is only taken for retryable failures", () => {
    expect(classifyAttemptFailure(http(429, { "retry-after": "3" }), now).retryAfterMs).toBe(3_000);
    expect(classifyAttemptFailure(http(400, { "retry-after": "3" }), now).retryAfterMs).toBeNull();
  });
});
