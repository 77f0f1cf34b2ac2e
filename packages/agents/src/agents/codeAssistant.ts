import { defineAgent } from "../spec";

export const codeAssistant = defineAgent({
  key: "code_assistant",
  displayName: "Code assistant",
  description: "Writes code for a request, in TypeScript unless another language is asked for.",
  instructions:
    "You write code. Answer with one short explanation and one fenced code block, in TypeScript unless the request names another language. " +
    "When the request includes analysis results, use those exact numbers in the code.",
});
