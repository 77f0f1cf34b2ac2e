import { RunInterruptedError } from "@workflows/core";

type Active = { controller: AbortController; done: Promise<unknown> };

/**
 * Runs executing in this process, by id: what `runs.cancel` aborts and what shutdown drains.
 * A run leaves the map when its `done` settles.
 */
export class ActiveRuns {
  readonly #runs = new Map<string, Active>();
  #accepting = true;

  get accepting(): boolean {
    return this.#accepting;
  }

  /** After this, callers must refuse new runs. */
  stopAccepting(): void {
    this.#accepting = false;
  }

  add(workflowRunId: string, controller: AbortController, done: Promise<unknown>): void {
    const settled = done.then(
      () => undefined,
      () => undefined,
    );
    this.#runs.set(workflowRunId, { controller, done: settled });
    void settled.then(() => {
      if (this.#runs.get(workflowRunId)?.controller === controller) this.#runs.delete(workflowRunId);
    });
  }

  has(workflowRunId: string): boolean {
    return this.#runs.has(workflowRunId);
  }

  ids(): string[] {
    return [...this.#runs.keys()];
  }

  get size(): number {
    return this.#runs.size;
  }

  /** Aborts the run; resolves when its runner has finished. False when the run is not executing here. */
  async abort(workflowRunId: string, reason: Error): Promise<boolean> {
    const active = this.#runs.get(workflowRunId);
    if (!active) return false;
    active.controller.abort(reason);
    await active.done;
    return true;
  }

  /** Waits until no run is executing, or `ms` passed. True when drained. */
  async drain(ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (this.#runs.size > 0) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all([...this.#runs.values()].map((r) => r.done)), new Promise((r) => (timer = setTimeout(r, left)))]);
      clearTimeout(timer);
    }
    return true;
  }

  /** Interrupts every executing run (recorded `interrupted`) and waits up to `ms` for them to stop. Returns their ids. */
  async abortAll(reason: string, ms: number): Promise<string[]> {
    const ids = this.ids();
    for (const id of ids) this.#runs.get(id)?.controller.abort(new RunInterruptedError(reason));
    await this.drain(ms);
    return ids;
  }
}
