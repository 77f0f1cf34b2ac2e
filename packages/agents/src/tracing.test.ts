import { addTraceProcessor, getGlobalTraceProvider, Runner, setTracingDisabled, type Span, type SpanData, type Trace, type TracingProcessor } from "@openai/agents";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createDefaultCatalog } from "./agents";
import { createModelProvider } from "./providers";
import { disableDefaultTraceExport } from "./tracing";

class RecordingProcessor implements TracingProcessor {
  readonly traces: string[] = [];
  readonly spans: string[] = [];
  async onTraceStart(trace: Trace): Promise<void> {
    this.traces.push(trace.name);
    return Promise.resolve();
  }
  async onTraceEnd(): Promise<void> {}
  async onSpanStart(): Promise<void> {}
  async onSpanEnd(span: Span<SpanData>): Promise<void> {
    this.spans.push(span.spanData.type);
    return Promise.resolve();
  }
  async shutdown(): Promise<void> {}
  async forceFlush(): Promise<void> {}
}

// A traced offline run, then a flush: the moment the default exporter would POST.
async function tracedRun(): Promise<void> {
  const runner = new Runner({ modelProvider: createModelProvider({ provider: "offline" }), tracingDisabled: false, workflowName: "trace-test" });
  await runner.run(createDefaultCatalog().agent("data_analyst"), "1, 2, 3");
  await getGlobalTraceProvider().forceFlush();
}

describe("disableDefaultTraceExport", () => {
  afterEach(() => {
    setTracingDisabled(true);
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });

  it("stops the SDK from POSTing traces to OpenAI when an API key is set, and keeps processors added afterwards", async () => {
    vi.stubEnv("OPENAI_API_KEY", "sk-test-not-real");
    const fetchSpy = vi.spyOn(globalThis, "fetch").mockImplementation(() => Promise.resolve(new Response("{}")));
    const urls = () => fetchSpy.mock.calls.map(([url]) => String(url instanceof Request ? url.url : url));
    // vitest sets NODE_ENV=test, which turns tracing off; these runs must be traced.
    setTracingDisabled(false);

    // Control: the exporter that importing @openai/agents installed does POST (to the mocked fetch).
    await getGlobalTraceProvider().forceFlush();
    fetchSpy.mockClear();
    await new Runner({ modelProvider: createModelProvider({ provider: "offline" }), tracingDisabled: false }).run(createDefaultCatalog().agent("writer"), "1. a");
    await getGlobalTraceProvider().forceFlush();
    expect(urls()).toEqual([expect.stringContaining("api.openai.com")]);
    fetchSpy.mockClear();

    disableDefaultTraceExport();
    const ours = new RecordingProcessor();
    addTraceProcessor(ours);
    disableDefaultTraceExport(); // a second call is a no-op: our processor stays
    await tracedRun();

    expect(urls()).toEqual([]);
    expect(ours.traces).toEqual(["trace-test"]);
    expect(ours.spans).toEqual(expect.arrayContaining(["task", "agent", "turn", "function"]));
  });
});
