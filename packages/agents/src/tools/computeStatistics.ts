import { tool } from "@openai/agents-core";
import { z } from "zod";
import { statisticsOf } from "../statistics";

export const computeStatisticsParameters = z.object({
  data: z.string().max(1_000_000).describe('The numbers exactly as the user gave them: CSV, a JSON array or free text ("3, 5, 10").'),
});

/** The output the model reads: the statistics as JSON, or `{ "error": ... }` so the model can explain what went wrong. */
export function computeStatisticsOutput(data: string): string {
  const outcome = statisticsOf(data);
  return JSON.stringify(outcome.success ? outcome.data : { error: outcome.error });
}

export const computeStatisticsTool = tool({
  name: "compute_statistics",
  description: "Computes count, sum, mean, median, min, max and population standard deviation of the numbers in the given text.",
  parameters: computeStatisticsParameters,
  execute: ({ data }) => computeStatisticsOutput(data),
});
