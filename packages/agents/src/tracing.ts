import { setTraceProcessors } from "@openai/agents-core";

let disabled = false;

/**
 * Removes the OpenAI trace exporter that importing `@openai/agents` installs (with any OPENAI_API_KEY it
 * POSTs traces to api.openai.com, whatever the model's base URL). Our packages import `@openai/agents-core`,
 * which installs none, but a workflow or tool module may import `@openai/agents`. Only the first call acts, so processors
 * added afterwards (`addTraceProcessor`) survive later calls. Call it at startup, before installing
 * your own processors: its first call replaces every processor, not only the OpenAI exporter.
 */
export function disableDefaultTraceExport(): void {
  if (disabled) return;
  setTraceProcessors([]);
  disabled = true;
}
