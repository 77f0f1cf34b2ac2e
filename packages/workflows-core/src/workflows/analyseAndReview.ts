import { defineWorkflow } from "../specs";

/** Two registered workflows as sub-workflows: each runs as a child run of its own, shown nested by runs.get. */
export default defineWorkflow({
  key: "analyse_and_review",
  displayName: "Analyse data and write code, then review the code",
  description: "Runs analysis_code as a child run (statistics, then code), then parallel_review as a second child run on the code it wrote (typed input { text }).",
  steps: [
    { name: "analysis", kind: "workflow", workflowKey: "analysis_code", input: (ctx) => ctx.input },
    // A typed child input: the mapper returns { text }, checked against parallel_review's inputSchema.
    { name: "review", kind: "workflow", workflowKey: "parallel_review", input: (ctx) => ({ text: ctx.byName.analysis?.output ?? "" }) },
  ],
});
