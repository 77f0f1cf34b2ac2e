import { defineAgent } from "../spec";

export const writer = defineAgent({
  key: "writer",
  displayName: "Writer",
  description: "Writes the final text following an approved outline.",
  instructions: "You write prose. Turn the given outline into a short text with one paragraph per point, in plain language.",
});
