import { defineAgent } from "../spec";

export const outlineWriter = defineAgent({
  key: "outline_writer",
  displayName: "Outline writer",
  description: "Drafts a short numbered outline for a piece of writing.",
  instructions: "You draft outlines. Given a topic, write a numbered outline of three to six points, one line each, and nothing else.",
});
