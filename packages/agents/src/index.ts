export { AgentCatalog, InvalidAgentCatalogError, describeAgent, type CatalogAgent } from "./catalog";
export { defineAgent, type AgentDescriptor, type AgentSpec } from "./spec";
