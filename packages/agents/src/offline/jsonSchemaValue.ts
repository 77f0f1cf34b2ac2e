/** What to put where the schema leaves a choice. */
export type SampleChoices = {
  /** Value of a boolean at this property path. */
  boolean: (path: readonly string[]) => boolean;
  /** Value of a string at this property path. */
  string: (path: readonly string[]) => string;
  /** Value of a number at this property path; the schema's lowest value (or 0) when absent or undefined. */
  number?: (path: readonly string[]) => number | undefined;
};

type Schema = Record<string, unknown>;

const isSchema = (v: unknown): v is Schema => typeof v === "object" && v !== null && !Array.isArray(v);
const MAX_DEPTH = 12;

/**
 * A value valid for a simple JSON schema (objects, arrays, strings, numbers, integers, booleans, null,
 * enum/const, anyOf/oneOf/allOf first branch, local $ref), chosen deterministically.
 */
export function sampleJsonSchema(schema: unknown, choices: SampleChoices): unknown {
  const root = isSchema(schema) ? schema : {};
  return sample(root, root, [], choices, 0);
}

function sample(schema: Schema, root: Schema, path: string[], choices: SampleChoices, depth: number): unknown {
  if (depth > MAX_DEPTH) return null;
  const ref = schema.$ref;
  if (typeof ref === "string") return sample(resolveRef(root, ref), root, path, choices, depth + 1);
  if ("const" in schema) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return (schema.enum as unknown[])[0];
  for (const key of ["anyOf", "oneOf", "allOf"] as const) {
    const branches = schema[key];
    if (Array.isArray(branches)) {
      const list: unknown[] = branches;
      const branch = list.find((b) => isSchema(b) && b.type !== "null") ?? list[0];
      if (isSchema(branch)) return sample(branch, root, path, choices, depth + 1);
    }
  }
  switch (typeOf(schema)) {
    case "object": {
      const properties = isSchema(schema.properties) ? schema.properties : {};
      const out: Record<string, unknown> = {};
      for (const [name, child] of Object.entries(properties)) {
        out[name] = sample(isSchema(child) ? child : {}, root, [...path, name], choices, depth + 1);
      }
      return out;
    }
    case "array": {
      const items = isSchema(schema.items) ? schema.items : {};
      const length = typeof schema.minItems === "number" && schema.minItems > 1 ? schema.minItems : 1;
      return Array.from({ length }, (_, i) => sample(items, root, [...path, String(i)], choices, depth + 1));
    }
    case "string":
      return choices.string(path);
    case "number":
    case "integer":
      return choices.number?.(path) ?? numberIn(schema);
    case "boolean":
      return choices.boolean(path);
    case "null":
      return null;
    default:
      return choices.string(path);
  }
}

// Zero when the bounds allow it, else the nearest bound.
function numberIn(schema: Schema): number {
  const num = (v: unknown): number | undefined => (typeof v === "number" ? v : undefined);
  const exclusiveMin = num(schema.exclusiveMinimum);
  const exclusiveMax = num(schema.exclusiveMaximum);
  const lo = num(schema.minimum) ?? (exclusiveMin === undefined ? undefined : exclusiveMin + 1);
  const hi = num(schema.maximum) ?? (exclusiveMax === undefined ? undefined : exclusiveMax - 1);
  if (lo !== undefined && lo > 0) return lo;
  if (hi !== undefined && hi < 0) return hi;
  return 0;
}

function typeOf(schema: Schema): string {
  const type = schema.type;
  if (typeof type === "string") return type;
  if (Array.isArray(type)) return String(type.find((t) => t !== "null") ?? "null");
  return isSchema(schema.properties) ? "object" : "string";
}

function resolveRef(root: Schema, ref: string): Schema {
  if (!ref.startsWith("#")) return {};
  let node: unknown = root;
  for (const part of ref.slice(1).split("/").filter(Boolean)) {
    node = isSchema(node) ? node[part.replace(/~1/g, "/").replace(/~0/g, "~")] : undefined;
  }
  return isSchema(node) ? node : {};
}
