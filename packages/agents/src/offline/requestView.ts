import type { AgentInputItem, FunctionCallResultItem, ModelRequest } from "@openai/agents-core";

/** A tool result the model can read in its input. */
export type ToolResult = { name: string; output: string };

/** What the offline model reads from a request: plain text and tool results, nothing provider-specific. */
export type RequestView = {
  /** The latest user message; the whole input when it is a string. */
  userText: string;
  /** Results of function tools that came after the latest user message. */
  toolResults: ToolResult[];
  /** Every text in the input, for token counting. */
  allText: string;
};

export function viewRequest(request: ModelRequest): RequestView {
  if (typeof request.input === "string") return { userText: request.input, toolResults: [], allText: request.input };
  let userText = "";
  let toolResults: ToolResult[] = [];
  const texts: string[] = [];
  for (const item of request.input) {
    const text = itemText(item);
    if (text) texts.push(text);
    if (item.type === "function_call_result") toolResults.push({ name: item.name, output: text });
    else if (isUserMessage(item)) {
      userText = text;
      toolResults = [];
    }
  }
  return { userText, toolResults, allText: texts.join("\n") };
}

function isUserMessage(item: AgentInputItem): boolean {
  return (item.type === undefined || item.type === "message") && "role" in item && item.role === "user";
}

function itemText(item: AgentInputItem): string {
  switch (item.type) {
    case "function_call_result":
      return outputText(item.output);
    case "function_call":
      return item.arguments;
    case undefined:
    case "message":
      if (!("content" in item)) return "";
      if (typeof item.content === "string") return item.content;
      return item.content.map((part) => ("text" in part && typeof part.text === "string" ? part.text : "")).join("");
    default:
      return "";
  }
}

function outputText(output: FunctionCallResultItem["output"]): string {
  if (typeof output === "string") return output;
  const parts = Array.isArray(output) ? output : [output];
  return parts.map((p) => ("text" in p && typeof p.text === "string" ? p.text : JSON.stringify(p))).join("");
}

export const countWords = (text: string): number => text.split(/\s+/).filter(Boolean).length;
