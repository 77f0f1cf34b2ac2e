export { AgentCatalog, InvalidAgentCatalogError, describeAgent, type CatalogAgent } from "./catalog";
export { defineAgent, type AgentDescriptor, type AgentSpec } from "./spec";
export {
  createDefaultCatalog,
  defaultAgentSpecs,
  billingSpecialist,
  codeAssistant,
  dataAnalyst,
  outlineChecker,
  outlineWriter,
  techSpecialist,
  triage,
  writer,
  outlineVerdictSchema,
  clarityReviewer,
  accuracyReviewer,
  toneReviewer,
  reviewEditor,
  draftChecker,
  draftVerdictSchema,
  type OutlineVerdict,
} from "./agents";
export { createModelProvider, defaultModelName, describeModelConfig, type ModelConfig } from "./providers";
export { OFFLINE_MODEL_NAME, OfflineModel, OfflineModelProvider, decideOfflineReply, type OfflineModelOptions, type OfflineReply } from "./offline/offlineModel";
export { computeStatisticsTool, computeStatisticsOutput } from "./tools/computeStatistics";
export { issueRefundTool, issueRefundOutput, issueRefundParameters } from "./tools/issueRefund";
export { requireApproval, toolNeedsApproval } from "./tools/approval";
export { computeStatistics, parseNumbers, statisticsOf, type Statistics, type StatisticsOutcome } from "./statistics";
export { disableDefaultTraceExport } from "./tracing";
