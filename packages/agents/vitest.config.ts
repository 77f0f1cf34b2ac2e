import { defineConfig } from "vitest/config";

// vitest 5.1's reporter prints failures with Map.groupBy, which Node 20 lacks: without this a failing
// test crashes the reporter ("Map.groupBy is not a function") instead of showing the assertion.
if (!("groupBy" in Map)) {
  Object.defineProperty(Map, "groupBy", {
    configurable: true,
    writable: true,
    value: <K, T>(items: Iterable<T>, key: (item: T, index: number) => K): Map<K, T[]> => {
      const groups = new Map<K, T[]>();
      let i = 0;
      for (const item of items) {
        const k = key(item, i++);
        const group = groups.get(k);
        if (group) group.push(item);
        else groups.set(k, [item]);
      }
      return groups;
    },
  });
}

export default defineConfig({ test: { include: ["src/**/*.test.ts"] } });
