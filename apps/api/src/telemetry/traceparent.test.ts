import { describe, expect, it } from "vitest";
import { parseTraceparent } from "./traceparent";

describe("parseTraceparent", () => {
  it("reads the trace id and the caller's span id", () => {
    expect(parseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")).toEqual({ traceId: "4bf92f3577b34da6a3ce929d0e0e4736", parentSpanId: "00f067aa0ba902b7" });
  });

  it("ignores what is not a valid traceparent: a new trace starts instead", () => {
    for (const bad of [undefined, ["x"], "", "garbage", "00-00000000000000000000000000000000-00f067aa0ba902b7-01", "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra"]) {
      expect(parseTraceparent(bad)).toBeUndefined();
    }
  });

  it("accepts a future version with extra fields", () => {
    expect(parseTraceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-comes")?.traceId).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
  });
});
