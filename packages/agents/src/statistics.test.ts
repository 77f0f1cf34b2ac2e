import { describe, expect, it } from "vitest";
import { computeStatistics, MAX_NUMBERS, parseNumbers, statisticsOf } from "./statistics";

describe("parseNumbers", () => {
  it("reads free text, CSV and JSON", () => {
    expect(parseNumbers("numbers: 3, 5, 10")).toEqual({ success: true, data: [3, 5, 10] });
    expect(parseNumbers("a,b\n1,2.5\n-3,4e2")).toEqual({ success: true, data: [1, 2.5, -3, 400] });
    expect(parseNumbers("[1, [2, \"3\"], {\"x\": 4}]")).toEqual({ success: true, data: [1, 2, 3, 4] });
    expect(parseNumbers('{"jan": 10, "feb": 20, "label": "q1"}')).toEqual({ success: true, data: [10, 20] });
  });

  it("ignores digits glued to words and version strings, keeps a number ending a sentence", () => {
    expect(parseNumbers("item2 costs 7, v1.2.3 costs 9.")).toEqual({ success: true, data: [7, 9] });
  });

  it("falls back to text scanning when the input only looks like JSON", () => {
    expect(parseNumbers("[1, 2, oops")).toEqual({ success: true, data: [1, 2] });
  });

  it("explains what it expects when there are no numbers", () => {
    const out = parseNumbers("no digits here");
    expect(out.success).toBe(false);
    if (!out.success) expect(out.error).toMatch(/No numbers found/);
    expect(parseNumbers("[]").success).toBe(false);
  });

  it("rejects numbers that are not finite and lists that are too long", () => {
    const huge = parseNumbers("1e999, 2");
    expect(huge).toEqual({ success: false, error: expect.stringMatching(/too large/) as unknown });
    const many = parseNumbers(Array.from({ length: MAX_NUMBERS + 1 }, () => "1").join(","));
    expect(many).toEqual({ success: false, error: expect.stringMatching(/Too many numbers/) as unknown });
  });
});

describe("computeStatistics", () => {
  it("computes count, sum, mean, median, min, max and population stddev", () => {
    expect(computeStatistics([3, 5, 10])).toEqual({
      success: true,
      data: { count: 3, sum: 18, mean: 6, median: 5, min: 3, max: 10, stddev: 2.94392028878 },
    });
  });

  it("takes the mean of the two middle values as the median of an even count", () => {
    const out = computeStatistics([4, 1, 3, 2]);
    expect(out.success && out.data.median).toBe(2.5);
  });

  it("hides floating-point noise", () => {
    const out = computeStatistics([0.1, 0.2]);
    expect(out.success && out.data.sum).toBe(0.3);
  });

  it("returns an error for an empty list and for overflow instead of throwing", () => {
    expect(computeStatistics([])).toEqual({ success: false, error: "Cannot compute statistics of an empty list." });
    expect(computeStatistics([Number.MAX_VALUE, Number.MAX_VALUE]).success).toBe(false);
  });
});

describe("statisticsOf", () => {
  it("goes from text to statistics", () => {
    const out = statisticsOf("1 2 3 4");
    expect(out.success && out.data).toMatchObject({ count: 4, sum: 10, mean: 2.5 });
  });
});
