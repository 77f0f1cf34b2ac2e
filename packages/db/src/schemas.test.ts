// Prisma cannot switch providers in one schema, so SQLite and PostgreSQL each have theirs. They must describe
// the same models: same fields, same optionality, same keys and indexes; only the column types may differ,
// and only where PostgreSQL has a native type (client.ts explains how reads are made alike).
import fs from "node:fs";
import { describe, expect, it } from "vitest";
import { postgresSchemaPath, schemaPath } from "./paths";

type Field = { name: string; type: string; optional: boolean; list: boolean; attributes: string };
type Model = { fields: Map<string, Field>; blockAttributes: string[] };

/** The models of a Prisma schema: fields (name, type, modifiers, attributes without @db.*) and @@ attributes. */
function parseSchema(file: string): Map<string, Model> {
  const text = fs.readFileSync(file, "utf8").replace(/\/\/.*$/gm, "");
  const models = new Map<string, Model>();
  for (const match of text.matchAll(/^model\s+(\w+)\s*\{([^}]*)\}/gm)) {
    const model: Model = { fields: new Map(), blockAttributes: [] };
    for (const raw of match[2]!.split("\n")) {
      const line = raw.trim().replace(/\s+/g, " ");
      if (line === "") continue;
      if (line.startsWith("@@")) {
        model.blockAttributes.push(line);
        continue;
      }
      const [name, typeToken, ...rest] = line.split(" ");
      const type = typeToken!.replace(/[?[\]]/g, "");
      model.fields.set(name!, {
        name: name!,
        type,
        optional: typeToken!.endsWith("?"),
        list: typeToken!.endsWith("[]"),
        attributes: rest.filter((a) => !a.startsWith("@db.")).join(" "),
      });
    }
    models.set(match[1]!, model);
  }
  return models;
}

/** Column types that may differ, SQLite's on the left: JSON text is jsonb, auto-increment ids are bigint. */
const allowedTypeDifferences = new Set(["String->Json", "Int->BigInt"]);

describe("the SQLite and PostgreSQL schemas", () => {
  const sqlite = parseSchema(schemaPath);
  const postgres = parseSchema(postgresSchemaPath);

  it("have the same models", () => {
    expect([...postgres.keys()].sort()).toEqual([...sqlite.keys()].sort());
    expect(sqlite.size).toBeGreaterThanOrEqual(6);
  });

  for (const [name, model] of sqlite) {
    it(`describe ${name} alike`, () => {
      const other = postgres.get(name)!;
      expect([...other.fields.keys()], "field names and order").toEqual([...model.fields.keys()]);
      for (const field of model.fields.values()) {
        const twin = other.fields.get(field.name)!;
        expect({ optional: twin.optional, list: twin.list, attributes: twin.attributes }, `${name}.${field.name}`).toEqual({ optional: field.optional, list: field.list, attributes: field.attributes });
        if (twin.type !== field.type) expect(allowedTypeDifferences, `${name}.${field.name}: ${field.type} vs ${twin.type}`).toContain(`${field.type}->${twin.type}`);
      }
      expect(other.blockAttributes, "keys and indexes").toEqual(model.blockAttributes);
    });
  }

  it("differ in type only where PostgreSQL has a native one: JSON columns and auto-increment ids", () => {
    const differences: string[] = [];
    for (const [name, model] of sqlite) {
      for (const field of model.fields.values()) {
        const twin = postgres.get(name)!.fields.get(field.name)!;
        if (twin.type !== field.type) differences.push(`${name}.${field.name}`);
      }
    }
    expect(differences.sort()).toEqual([
      "ConversationItem.id",
      "ConversationItem.item",
      "TraceSpan.data",
      "TraceSpan.id",
      "WorkflowRun.structuredOutput",
      "WorkflowRunStep.structuredOutput",
    ]);
  });
});
