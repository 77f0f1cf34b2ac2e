import { defineWorkflow } from "../specs";

/** The default chain: the analyst computes statistics with its tool, the code assistant turns them into code. */
export default defineWorkflow({
  key: "analysis_code",
  displayName: "Analyse data, then write code",
  description: "data_analyst computes statistics over the numbers in the input; code_assistant writes code from that analysis and the original request.",
  default: true,
  steps: [
    { name: "analyse", agentKey: "data_analyst", maxTurns: 4 },
    {
      name: "write_code",
      agentKey: "code_assistant",
      maxTurns: 3,
      inputMapper: (ctx) =>
        [
          "Write TypeScript code for the request below, using the analysis as the source of the numbers.",
          `Original request:\n${ctx.input}`,
          `Analysis:\n${ctx.byName.analyse?.output ?? "(no analysis)"}`,
        ].join("\n\n"),
    },
  ],
});
