import type { FunctionTool, Tool } from "@openai/agents-core";

const needingApproval = new WeakSet<object>();

/**
 * The tool, made to stop every call for a person's decision (the SDK's `needsApproval`), and marked so the
 * workflow registry can tell it apart: the SDK keeps `needsApproval` as an opaque function.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- FunctionTool's own default type parameters
export function requireApproval<T extends FunctionTool<any, any, any>>(tool: T): T {
  tool.needsApproval = () => Promise.resolve(true);
  needingApproval.add(tool);
  return tool;
}

/** Whether every call of the tool waits for approval (a tool made by `requireApproval`). */
export const toolNeedsApproval = (tool: Tool): boolean => needingApproval.has(tool);
