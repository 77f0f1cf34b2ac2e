import { describe, expect, it } from "vitest";
import { REDACTED, Redactor } from "./redactor";

const pem = ["-----BEGIN RSA PRIVATE KEY-----", "MIIEowIBAAKCAQEA1c2x", "abc/def+ghi=", "-----END RSA PRIVATE KEY-----"].join("\n");

describe("Redactor", () => {
  const r = new Redactor(["ghp_[A-Za-z0-9]{10,}"]);

  it.each([
    ["an OpenAI key", "key sk-proj-abcdefghijklmnopqrstuvwx0123 here", `key ${REDACTED} here`],
    ["an API key of this service", "wfk_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", REDACTED],
    ["an AWS access key id", "id=AKIAIOSFODNN7EXAMPLE;", `id=${REDACTED};`],
    ["a bearer token", "Authorization: Bearer eyJhbGciOi.J9x-y_z", `Authorization: Bearer ${REDACTED}`],
    ["a private key block", `before\n${pem}\nafter`, `before\n${REDACTED}\nafter`],
    ["a private key block cut short", "x -----BEGIN PRIVATE KEY-----\nMIIE", `x ${REDACTED}`],
    ["a configured pattern", "token ghp_0123456789abcdef", `token ${REDACTED}`],
  ])("redacts %s", (_what, input, expected) => {
    expect(r.text(input)).toBe(expected);
  });

  it("leaves ordinary text alone", () => {
    const text = "Ask the desk about task-12345 and the sky-blue logo; bearer bonds are fine.";
    expect(r.text(text)).toBe(text);
  });

  it("redacts every string of a nested value and keeps keys, without touching the original", () => {
    const value = { a: ["sk-abcdefghijklmnopqrstu"], b: { c: "AKIAIOSFODNN7EXAMPLE", n: 1 }, __proto__x: null };
    const copy = r.deep(value);
    expect(copy).toEqual({ a: [REDACTED], b: { c: REDACTED, n: 1 }, __proto__x: null });
    expect(value.a[0]).toBe("sk-abcdefghijklmnopqrstu");
  });

  it("rejects an invalid configured pattern", () => {
    expect(() => new Redactor(["("])).toThrow(SyntaxError);
  });
});
