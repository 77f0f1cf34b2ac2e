import { RunInterruptedError } from "@workflows/core";

type Active = { controller: AbortController; done: Promise<unknown> };

/**
 * Runs executing in this process, by id: what `runs.cancel` aborts and what shutdown drains. One id may have
 * several executions at once for a while: two resumes of a run accepted side by side, of which the first to
 * claim the run goes on and the other ends at its claim. Each leaves when its `done` settles, never taking
 * another with it.
 */
export class ActiveRuns {
  readonly #runs = new Map<string, Active[]>();
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
    const active: Active = { controller, done: settled };
    const executions = this.#runs.get(workflowRunId);
    if (executions) executions.push(active);
    else this.#runs.set(workflowRunId, [active]);
    void settled.then(() => {
      const left = this.#runs.get(workflowRunId)?.filter((a) => a !== active) ?? [];
      if (left.length > 0) this.#runs.set(workflowRunId, left);
      else this.#runs.delete(workflowRunId);
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

  /** Aborts the run (each of its executions); resolves when they have finished. False when the run is not executing here. */
  async abort(workflowRunId: string, reason: Error): Promise<boolean> {
    const executions = this.#runs.get(workflowRunId);
    if (!executions) return false;
    for (const active of executions) active.controller.abort(reason);
    await Promise.all(executions.map((active) => active.done));
    return true;
  }

  /** Waits until no run is executing, or `ms` passed. True when drained. */
  async drain(ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (this.#runs.size > 0) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all([...this.#runs.values()].flat().map((r) => r.done)), new Promise((r) => (timer = setTimeout(r, left)))]);
      clearTimeout(timer);
    }
    return true;
  }

  /** Interrupts every executing run (recorded `interrupted`) and waits up to `ms` for them to stop. Returns their ids. */
  async abortAll(reason: string, ms: number): Promise<string[]> {
    const ids = this.ids();
    for (const id of ids) for (const active of this.#runs.get(id) ?? []) active.controller.abort(new RunInterruptedError(reason));
    await this.drain(ms);
    return ids;
  }
}
