/**
 * Helpers for the engine tests (not part of the package's API; excluded from the published
 * files): tiny real `%%adapter` trials on synthetic data, records reduced to what must match
 * between two runs of the same spec, and process checks.
 */
import type { TrialResult, TrialSpec } from './engine.js';

/**
 * A real `%%adapter` trial that trains in a fraction of a second: LoRA on an 8-16-2 MLP,
 * `sum-greater-than` (256 train, 64 test examples), 2 epochs of 8 steps. `index` sets the trial
 * id (`t000`, …), the seed and the learning rate, so every trial's numbers differ.
 */
export function tinyTrial(sweepId: string, index: number, config: Record<string, unknown> = {}): TrialSpec {
  return {
    sweepId,
    trialId: `t${String(index).padStart(3, '0')}`,
    magic: 'adapter',
    seed: index + 1,
    config: {
      model: { mlp: [8, 16, 2] },
      data: { dataset: 'sum-greater-than', train: 256, test: 64, features: 8 },
      adapter: { method: 'lora', r: 2, loraAlpha: 4, targetModules: ['0'], modulesToSave: ['1'] },
      train: { epochs: 2, batchSize: 32, lr: 0.005 * (index + 1) },
      ...config,
    },
  };
}

/**
 * A trial that runs for seconds (40 epochs of 128 one-example-batch steps on the same model, a
 * report after every epoch): long enough to abort it or kill its process mid-trial.
 */
export function slowTrial(sweepId: string, index: number): TrialSpec {
  return tinyTrial(sweepId, index, { data: { dataset: 'sum-greater-than', train: 128, test: 16, features: 8 }, train: { epochs: 40, batchSize: 1, lr: 0.001 } });
}

/** A trial whose config the magic refuses (an unknown adapter method). */
export function badTrial(sweepId: string, index: number): TrialSpec {
  return tinyTrial(sweepId, index, { adapter: { method: 'nosuch' } });
}

/** A run record without what differs between two runs of one spec (id, time, timings, hash). */
export function comparableRecord(result: TrialResult): Record<string, unknown> {
  const { id: _id, createdAt: _createdAt, timings: _timings, contentHash: _hash, ...rest } = result.record as Record<string, unknown>;
  return rest;
}

/** Whether a process with this pid exists. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` every 50 ms until it returns true; rejects with `what` after `timeoutMs`. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}
