/**
 * The engine that runs trials one at a time in this process (`engine: inline`): no child
 * processes and no server, at the price of no parallelism and a kernel busy with the trial. For
 * small sweeps, and wherever forking is not wanted.
 */
import { runTrialHere, type SweepEngine, type TrialReport, type TrialResult, type TrialSpec } from './engine.js';

/** Trials in this process, one at a time. */
export class InlineEngine implements SweepEngine {
  readonly concurrency = 1;
  private queue: Promise<unknown> = Promise.resolve();

  run(spec: TrialSpec, options: { signal: AbortSignal; onReport?: (report: TrialReport) => void }): Promise<TrialResult> {
    // The loop never asks for more than `concurrency`; the chain keeps a stray second call in order.
    const next = this.queue.then(() => runTrialHere(spec, options));
    this.queue = next.catch(() => undefined);
    return next;
  }

  async close(): Promise<void> {
    await this.queue;
  }
}
