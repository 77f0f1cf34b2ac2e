import { describe, expect, it } from "vitest";
import { smallData } from "./tracing";

describe("smallData (span payloads kept small)", () => {
  it("keeps small data as it is, without the span type", () => {
    const data = { type: "turn", turn: 1, agent_name: "echo", usage: { input_tokens: 10, output_tokens: 2 } };
    expect(smallData(data)).toEqual({ turn: 1, agent_name: "echo", usage: { input_tokens: 10, output_tokens: 2 } });
  });

  it("cuts long strings and replaces big structures, within a 2,000-character budget", () => {
    const out = smallData({ type: "function", name: "ping", input: "x".repeat(5_000), output: { rows: Array.from({ length: 1_000 }, (_, i) => i) } });
    expect(out.name).toBe("ping");
    expect(String(out.input)).toMatch(/^x{1996}… \[5000 chars\]$/);
    expect(out.output).toBe("[too large, omitted]");
    expect(JSON.stringify(out).length).toBeLessThan(2_200);
  });
});
