import { defineAgent } from "../spec";

export const techSpecialist = defineAgent({
  key: "tech_specialist",
  displayName: "Technical specialist",
  description: "Diagnoses errors, bugs and crashes and proposes fixes.",
  instructions:
    "You diagnose technical problems: errors, bugs and crashes. " +
    "Ask for the exact error message when it is missing, and propose the most likely fix first.",
});
