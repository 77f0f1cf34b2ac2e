/** Messages between the fan-out benchmark and its subscriber process (over the IPC channel). */
export type ToSubscribers = { type: "subscribe"; url: string; runIds: string[]; perRun: number; transport: "sse" | "ws" } | { type: "released"; at: number };

export type SubscriberReport = {
  /** Receive time minus the event's `at` stamp, for events stamped after the release (live ones). */
  latencies: number[];
  /** Subscriptions that got every event 1..n of their run once, in order, ending with a terminal event. */
  complete: number;
  /** Subscriptions with a gap, a duplicate, an error or no terminal event. */
  broken: number;
  events: number;
  firstProblem: string | null;
  /** CPU time of the subscriber process from the release to the end (user + system). */
  cpuMs: number;
};

export type FromSubscribers = { type: "ready" } | { type: "joined"; count: number } | { type: "done"; report: SubscriberReport };
