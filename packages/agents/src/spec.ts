import type { Tool } from "@openai/agents-core";
import type { z } from "zod";

/** One agent of the catalog: what it is, what it may call and to whom it may hand off. */
export type AgentSpec = {
  key: string;
  displayName: string;
  description: string;
  instructions: string;
  tools?: Tool[];
  /** Keys of agents this one may hand off to. */
  handoffs?: string[];
  /** Structured final output; the model must answer with JSON of this shape. */
  outputType?: z.ZodObject;
  /** Model name for the configured provider; the provider's default when absent. */
  model?: string;
};

/** The public listing of an agent (API contract). */
export type AgentDescriptor = {
  key: string;
  displayName: string;
  description: string;
  tools: string[];
  handoffs: string[];
  model: string | null;
  structuredOutput: boolean;
};

export const defineAgent = (spec: AgentSpec): AgentSpec => spec;
