import { TRPCError } from "@trpc/server";
import { ConflictError, InvalidInputError, NotFoundError, SystemFaultError } from "@workflows/core";
import { describe, expect, it } from "vitest";
import { PayloadTooLargeError, assertInputSize, toTRPCError, validationIssues } from "./errors";

describe("toTRPCError", () => {
  it.each([
    [new NotFoundError("run", "x"), "NOT_FOUND"],
    [new InvalidInputError("bad"), "BAD_REQUEST"],
    [new ConflictError("done"), "CONFLICT"],
    [new PayloadTooLargeError("input", 10), "PAYLOAD_TOO_LARGE"],
    [new SystemFaultError("STORAGE_ERROR", "disk full at /var/secret"), "INTERNAL_SERVER_ERROR"],
    [new Error("boom"), "INTERNAL_SERVER_ERROR"],
    ["a string", "INTERNAL_SERVER_ERROR"],
  ])("maps %s to %s", (error, code) => {
    expect(toTRPCError(error).code).toBe(code);
  });

  it("looks inside the INTERNAL_SERVER_ERROR tRPC wraps around a thrown domain error", () => {
    const wrapped = new TRPCError({ code: "INTERNAL_SERVER_ERROR", cause: new NotFoundError("workflow", "nope") });
    expect(toTRPCError(wrapped).code).toBe("NOT_FOUND");
  });

  it("keeps tRPC's own errors", () => {
    expect(toTRPCError(new TRPCError({ code: "BAD_REQUEST" })).code).toBe("BAD_REQUEST");
  });
});

describe("validationIssues", () => {
  it("reads zod-style issues and nothing else", () => {
    expect(validationIssues({ issues: [{ path: ["key"], message: "Required", code: "invalid_type" }] })).toEqual([{ path: ["key"], message: "Required", code: "invalid_type" }]);
    expect(validationIssues(new Error("x"))).toBeNull();
  });
});

describe("assertInputSize", () => {
  it("counts UTF-8 bytes, not characters", () => {
    expect(() => assertInputSize("input", "é".repeat(6), 12)).not.toThrow();
    expect(() => assertInputSize("input", "é".repeat(7), 12)).toThrow(PayloadTooLargeError);
  });
});
