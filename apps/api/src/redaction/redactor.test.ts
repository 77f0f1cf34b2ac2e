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

  it("shares what held no secret, and returns a value without secrets as it is", () => {
    const clean = { a: ["task-12345", { n: 1 }], b: { c: "plain" } };
    expect(r.deep(clean)).toBe(clean);
    const value = { a: ["x", "sk-abcdefghijklmnopqrstu", "y"], b: { c: "plain" }, ["__proto__"]: "wfk_abcdefghijklmnopqrstuvwxyz" };
    const copy = r.deep(value);
    expect(copy).not.toBe(value);
    expect(copy.a).toEqual(["x", REDACTED, "y"]);
    expect(copy.b).toBe(value.b);
    expect(Object.getOwnPropertyDescriptor(copy, "__proto__")?.value).toBe(REDACTED);
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
  });

  it("finds built-in kinds whatever the case of the bearer and wherever they sit", () => {
    expect(r.text("auth: bearer abcdefgh12345")).toBe(`auth: bearer ${REDACTED}`);
    expect(r.text("BEARER\tabcdefgh12345 and ASIAIOSFODNN7EXAMPLE")).toBe(`BEARER\t${REDACTED} and ${REDACTED}`);
  });

  it("rejects an invalid configured pattern", () => {
    expect(() => new Redactor(["("])).toThrow(SyntaxError);
  });
});
