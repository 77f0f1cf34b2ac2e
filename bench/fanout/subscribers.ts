/**
 * The fan-out benchmark's clients, in their own process (so the server's RSS is the server's alone): opens
 * `perRun` `runs.events` subscriptions (SSE or WebSocket) on each run, says when every one has received its first
 * event, then records each live event's latency and checks every subscription's order.
 */
import { isTerminalEvent } from "@workflows/core";
import { createWorkflowsClient } from "@workflows/client";
import type { FromSubscribers, SubscriberReport, ToSubscribers } from "./protocol";

const send = (message: FromSubscribers) => process.send?.(message);

let releasedAt = Number.POSITIVE_INFINITY;
let cpuAtRelease = process.cpuUsage();

function follow(opts: { url: string; runIds: string[]; perRun: number; transport: "sse" | "ws" }): void {
  // SSE: one HTTP connection per subscription. WebSocket: one connection carries them all.
  const client = createWorkflowsClient({ url: opts.url, transport: opts.transport });
  const total = opts.runIds.length * opts.perRun;
  const report: SubscriberReport = { latencies: [], complete: 0, broken: 0, events: 0, firstProblem: null, cpuMs: 0 };
  let joined = 0;
  let finished = 0;
  const problem = (what: string) => {
    report.broken++;
    report.firstProblem ??= what;
  };
  const end = () => {
    if (++finished !== total) return;
    const cpu = process.cpuUsage(cpuAtRelease);
    report.cpuMs = Math.round((cpu.user + cpu.system) / 1000);
    send({ type: "done", report });
  };
  for (const workflowRunId of opts.runIds) {
    for (let i = 0; i < opts.perRun; i++) {
      let expected = 1;
      let ended = false;
      let failed = false;
      const subscription = client.runs.events.subscribe(
        { workflowRunId },
        {
          onData: ({ data: event }) => {
            const now = Date.now();
            report.events++;
            if (expected === 1 && ++joined === total) send({ type: "joined", count: joined });
            const at = Date.parse(event.at);
            if (at >= releasedAt) report.latencies.push(now - at);
            if (event.seq !== expected && !failed) {
              failed = true;
              problem(`run ${workflowRunId}: seq ${event.seq} where ${expected} was expected`);
            }
            expected = event.seq + 1;
            ended = isTerminalEvent(event);
          },
          onError: (error) => {
            if (!failed) problem(`run ${workflowRunId}: ${String(error)}`);
            failed = true;
            end();
          },
          onComplete: () => {
            if (!failed && !ended) problem(`run ${workflowRunId}: ended without a terminal event`);
            else if (!failed) report.complete++;
            end();
          },
        },
      );
      void subscription;
    }
  }
}

process.on("message", (message: ToSubscribers) => {
  if (message.type === "subscribe") follow(message);
  else {
    releasedAt = message.at;
    cpuAtRelease = process.cpuUsage();
  }
});
send({ type: "ready" });
