/** Descriptive statistics over a list of numbers; `stddev` is the population standard deviation. */
export type Statistics = {
  count: number;
  sum: number;
  mean: number;
  median: number;
  min: number;
  max: number;
  stddev: number;
};

export type StatisticsOutcome = { success: true; data: Statistics } | { success: false; error: string };
export type ParseOutcome = { success: true; data: number[] } | { success: false; error: string };

export const MAX_NUMBERS = 100_000;

// A number standing on its own: not glued to a word ("item2") and not the tail of a dotted token ("v1.2.3").
const numberPattern = /(?<![\w.])[-+]?(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?(?![\w]|\.\d)/g;

/**
 * Reads numbers from a JSON array (nested arrays and numeric strings allowed), a JSON object
 * (its numeric values) or any text such as CSV ("3,5,10") or prose ("numbers: 3, 5 and 10").
 */
export function parseNumbers(input: string): ParseOutcome {
  const fromJson = numbersFromJson(input);
  const numbers = fromJson ?? [...input.matchAll(numberPattern)].map((m) => Number(m[0]));
  if (numbers.length === 0) {
    return { success: false, error: 'No numbers found in the input. Give them as CSV ("3,5,10"), a JSON array ("[3,5,10]") or text ("numbers: 3, 5, 10").' };
  }
  if (numbers.length > MAX_NUMBERS) return { success: false, error: `Too many numbers (${numbers.length}); at most ${MAX_NUMBERS} are accepted.` };
  const bad = numbers.find((n) => !Number.isFinite(n));
  if (bad !== undefined) return { success: false, error: `The input holds a number too large to compute with (${bad}).` };
  return { success: true, data: numbers };
}

function numbersFromJson(input: string): number[] | null {
  const trimmed = input.trim();
  if (!trimmed.startsWith("[") && !trimmed.startsWith("{")) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch {
    return null;
  }
  const out: number[] = [];
  const collect = (value: unknown): void => {
    if (typeof value === "number") out.push(value);
    else if (typeof value === "string" && value.trim() !== "" && !Number.isNaN(Number(value))) out.push(Number(value));
    else if (Array.isArray(value)) value.forEach(collect);
    else if (value !== null && typeof value === "object") Object.values(value).forEach(collect);
  };
  collect(parsed);
  return out;
}

/** Statistics of a non-empty list; an empty list is an error outcome, not an exception. */
export function computeStatistics(numbers: readonly number[]): StatisticsOutcome {
  if (numbers.length === 0) return { success: false, error: "Cannot compute statistics of an empty list." };
  const sorted = [...numbers].sort((a, b) => a - b);
  const count = sorted.length;
  const sum = sorted.reduce((acc, n) => acc + n, 0);
  const mean = sum / count;
  const mid = Math.floor(count / 2);
  const median = count % 2 === 1 ? at(sorted, mid) : (at(sorted, mid - 1) + at(sorted, mid)) / 2;
  const variance = sorted.reduce((acc, n) => acc + (n - mean) ** 2, 0) / count;
  const data: Statistics = { count, sum, mean, median, min: at(sorted, 0), max: at(sorted, count - 1), stddev: Math.sqrt(variance) };
  if (!Object.values(data).every(Number.isFinite)) return { success: false, error: "The numbers are too large: the result overflows." };
  return { success: true, data: roundAll(data) };
}

/** Parses then computes: the whole path from user text to statistics. */
export function statisticsOf(input: string): StatisticsOutcome {
  const parsed = parseNumbers(input);
  return parsed.success ? computeStatistics(parsed.data) : parsed;
}

function at(sorted: readonly number[], index: number): number {
  const value = sorted[index];
  if (value === undefined) throw new RangeError(`index ${index} outside a list of ${sorted.length}`);
  return value;
}

// Twelve significant digits hide floating-point noise (0.1 + 0.2) without losing real precision.
const round = (n: number): number => Number(n.toPrecision(12));

function roundAll(s: Statistics): Statistics {
  return { count: s.count, sum: round(s.sum), mean: round(s.mean), median: round(s.median), min: s.min, max: s.max, stddev: round(s.stddev) };
}
