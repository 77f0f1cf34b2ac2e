import { z } from "zod";
import { describe, expect, it } from "vitest";
import { sampleJsonSchema } from "./jsonSchemaValue";

const choices = { boolean: () => true, string: (path: readonly string[]) => `s:${path.join(".")}` };

describe("sampleJsonSchema", () => {
  it("produces a value that the zod schema behind the JSON schema accepts", () => {
    const schema = z.object({
      ok: z.boolean(),
      name: z.string(),
      score: z.number().min(2),
      count: z.int(),
      tags: z.array(z.string()).min(2),
      nested: z.object({ kind: z.enum(["a", "b"]), note: z.string().nullable(), fixed: z.literal("x") }),
      either: z.union([z.number(), z.string()]),
    });
    const value = sampleJsonSchema(z.toJSONSchema(schema), choices);
    expect(schema.parse(value)).toEqual({
      ok: true,
      name: "s:name",
      score: 2,
      count: 0,
      tags: ["s:tags.0", "s:tags.1"],
      nested: { kind: "a", note: "s:nested.note", fixed: "x" },
      either: 0,
    });
  });

  it("follows local $ref and stops on recursion", () => {
    const value = sampleJsonSchema({ $defs: { node: { type: "object", properties: { child: { $ref: "#/$defs/node" } } } }, $ref: "#/$defs/node" }, choices);
    expect(value).toMatchObject({ child: { child: {} } });
  });

  it("does not crash on a missing or odd schema", () => {
    expect(sampleJsonSchema(undefined, choices)).toBe("s:");
    expect(sampleJsonSchema({ type: ["null", "integer"] }, choices)).toBe(0);
  });
});
