import { defineAgent } from "../spec";
import { computeStatisticsTool } from "../tools/computeStatistics";

export const dataAnalyst = defineAgent({
  key: "data_analyst",
  displayName: "Data analyst",
  description: "Computes descriptive statistics over numbers given as CSV, JSON or text, with a real tool.",
  instructions:
    "You analyse numeric data. Always call compute_statistics with the user's data exactly as given; " +
    "never compute or guess a number yourself. Report the tool's numbers verbatim, then one sentence on what they show. " +
    "If the tool returns an error, explain it and say what input is expected.",
  tools: [computeStatisticsTool],
});
