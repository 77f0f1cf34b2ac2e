import { AgentCatalog } from "../catalog";
import type { AgentSpec } from "../spec";
import { billingSpecialist } from "./billingSpecialist";
import { codeAssistant } from "./codeAssistant";
import { dataAnalyst } from "./dataAnalyst";
import { outlineChecker } from "./outlineChecker";
import { outlineWriter } from "./outlineWriter";
import { techSpecialist } from "./techSpecialist";
import { triage } from "./triage";
import { writer } from "./writer";

export { billingSpecialist, codeAssistant, dataAnalyst, outlineChecker, outlineWriter, techSpecialist, triage, writer };
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
];

/** A fresh catalog of the shipped agents (fresh SDK `Agent` objects on each call). */
/** The shipped agents; `defaultModel` (see `defaultModelName`) names the model of agents that do not name one. */
export const createDefaultCatalog = (options: { defaultModel?: string | undefined } = {}): AgentCatalog => new AgentCatalog(defaultAgentSpecs, options);
