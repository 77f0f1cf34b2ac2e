import { AgentCatalog } from "../catalog";
import type { AgentSpec } from "../spec";
import { billingSpecialist } from "./billingSpecialist";
import { codeAssistant } from "./codeAssistant";
import { dataAnalyst } from "./dataAnalyst";
import { outlineChecker } from "./outlineChecker";
import { outlineWriter } from "./outlineWriter";
import { accuracyReviewer, clarityReviewer, draftChecker, reviewEditor, toneReviewer } from "./reviewers";
import { techSpecialist } from "./techSpecialist";
import { triage } from "./triage";
import { writer } from "./writer";

export { accuracyReviewer, billingSpecialist, clarityReviewer, codeAssistant, dataAnalyst, draftChecker, outlineChecker, outlineWriter, reviewEditor, techSpecialist, toneReviewer, triage, writer };
export { draftVerdictSchema } from "./reviewers";
export { outlineVerdictSchema, type OutlineVerdict } from "./outlineChecker";

/** The agents this project ships, in listing order. */
export const defaultAgentSpecs: readonly AgentSpec[] = [
  triage,
  billingSpecialist,
  techSpecialist,
  dataAnalyst,
  codeAssistant,
  outlineWriter,
  outlineChecker,
  writer,
  clarityReviewer,
  accuracyReviewer,
  toneReviewer,
  reviewEditor,
  draftChecker,
];

/** A fresh catalog of the shipped agents (fresh SDK `Agent` objects on each call). */
/** The shipped agents; `defaultModel` (see `defaultModelName`) names the model of agents that do not name one. */
export const createDefaultCatalog = (options: { defaultModel?: string | undefined } = {}): AgentCatalog => new AgentCatalog(defaultAgentSpecs, options);
