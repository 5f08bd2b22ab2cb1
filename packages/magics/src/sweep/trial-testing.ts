/**
 * Helpers for the engine tests (not part of the package's API; excluded from the published
 * files): tiny real `%%adapter` trials on synthetic data, records reduced to what must match
 * between two runs of the same spec, process checks, and real `hyperlab worker` processes.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
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
 * A trial that runs for seconds (`epochs` epochs of 128 one-example-batch steps on the same model,
 * about 0.15 s each on the CPU backend, a report after every epoch): long enough to abort it or
 * kill its process mid-trial.
 */
export function slowTrial(sweepId: string, index: number, epochs = 40): TrialSpec {
  return tinyTrial(sweepId, index, { data: { dataset: 'sum-greater-than', train: 128, test: 16, features: 8 }, train: { epochs, batchSize: 1, lr: 0.001 } });
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

/** The `hyperlab` CLI of the notebook package (a sibling workspace). */
export const HYPERLAB_BIN = path.resolve(__dirname, '..', '..', '..', 'notebook', 'bin', 'hyperlab.js');

/** A `hyperlab worker` process started by {@link startCliWorker}. */
export interface CliWorker {
  readonly pid: number;
  /** Every line it wrote to stderr so far, without the `hyperlab worker: ` prefix. */
  readonly lines: string[];
  /** Resolves with the exit code (or signal name) once it exited. */
  readonly exited: Promise<number | string>;
  /** Resolves with the first line (past or future) matching `pattern`; rejects after `timeoutMs` or when the process exits first. */
  line(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Sends `signal` (if still running). */
  kill(signal: NodeJS.Signals): void;
}

/**
 * Spawns the real `hyperlab worker --redis URL --backend cpu` with `args` (e.g. a short
 * `--lock-duration`), stdin closed, stderr read line by line.
 */
export function startCliWorker(url: string, args: string[] = []): CliWorker {
  const child = spawn(process.execPath, [HYPERLAB_BIN, 'worker', '--redis', url, '--backend', 'cpu', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  const lines: string[] = [];
  const listeners = new Set<() => void>();
  let partial = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) lines.push(line.replace(/^hyperlab worker: /, ''));
    for (const listener of listeners) listener();
  });
  let done = false;
  const exited = new Promise<number | string>((resolve) =>
    // 'close', not 'exit': it comes after stderr ended, so `lines` is complete by then.
    child.once('close', (code, signal) => {
      done = true;
      for (const listener of listeners) listener();
      resolve(signal ?? code ?? -1);
    }),
  );
  return {
    pid: child.pid!,
    lines,
    exited,
    kill: (signal) => {
      if (!done) child.kill(signal);
    },
    line: (pattern, timeoutMs = 30000) =>
      new Promise<string>((resolve, reject) => {
        const check = () => {
          const found = lines.find((l) => pattern.test(l));
          if (found === undefined && !done) return;
          clearTimeout(timer);
          listeners.delete(check);
          if (found !== undefined) resolve(found);
          else reject(new Error(`worker ${child.pid} exited without writing ${pattern}; its lines:\n${lines.join('\n')}`));
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`worker ${child.pid} wrote no line matching ${pattern} within ${timeoutMs} ms; its lines:\n${lines.join('\n')}`));
        }, timeoutMs);
        listeners.add(check);
        check();
      }),
  };
}
