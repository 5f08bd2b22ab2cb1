/**
 * What crosses a process boundary while a trial runs: the JSON messages between an engine and the
 * child process that runs its trial (`local-worker.ts`), and a trial's error as data. The same
 * error form travels through Redis (a BullMQ job's failure), so a `ConfigError` raised on another
 * machine reaches the notebook with its name and full text.
 */
import type { TrialReport, TrialResult, TrialSpec } from './engine.js';

/** The environment variable that names a trial child's backend (`node`, `wasm`, `cpu` or `auto`). */
export const BACKEND_ENV = 'HYPERLAB_BACKEND';

/** A trial's error as JSON: enough to rebuild an Error with the same name and message. */
export interface WireError {
  name: string;
  message: string;
  stack?: string;
}

/** Parent → child: run this trial (a child runs one at a time). */
export interface RunMessage {
  type: 'run';
  spec: TrialSpec;
}

/** Child → parent: the child loaded TensorFlow.js and its backend and waits for trials. */
export interface ReadyMessage {
  type: 'ready';
  /** The backend the child uses (`node`, `wasm` or `cpu`). */
  backend: string;
}

/** Child → parent: an intermediate report of the running trial. */
export interface ReportMessage {
  type: 'report';
  report: TrialReport;
}

/** Child → parent: the trial finished. */
export interface ResultMessage {
  type: 'result';
  result: TrialResult;
}

/** Child → parent: the trial failed (or the child could not set up its backend). */
export interface ErrorMessage {
  type: 'error';
  error: WireError;
}

/** Messages a trial child sends. */
export type ChildMessage = ReadyMessage | ReportMessage | ResultMessage | ErrorMessage;

/** The JSON form of any thrown value. */
export function toWireError(error: unknown): WireError {
  if (error instanceof Error) return { name: error.name, message: error.message, ...(error.stack ? { stack: error.stack } : {}) };
  return { name: 'Error', message: String(error) };
}

/**
 * A trial's failure, rebuilt on the engine's side: `name` and `message` are the original's
 * (`ConfigError`, `UsageError`, …), `trialId` says which trial, and `remoteStack` keeps the stack
 * as it was where the trial ran.
 */
export class TrialError extends Error {
  /** The stack where the trial ran (another process, maybe another machine). */
  readonly remoteStack?: string;
  constructor(
    readonly trialId: string,
    wire: WireError,
  ) {
    super(wire.message);
    this.name = wire.name;
    if (wire.stack) this.remoteStack = wire.stack;
    // Like ConfigError, the message says what went wrong; the engine's own frames would be noise.
    this.stack = `${this.name}: ${this.message}`;
  }
}

/**
 * Recovers a {@link WireError} from what BullMQ keeps of a failed job: its `failedReason` (the
 * message) and its stack traces, whose last entry starts `Name: message` for the last attempt.
 */
export function wireErrorFromJob(failedReason: string, stacktrace: string[] | null | undefined): WireError {
  const stack = stacktrace?.at(-1);
  const name = stack && stack.startsWith(': ', stack.indexOf(':')) ? stack.slice(0, stack.indexOf(':')) : '';
  return { name: /^\w+$/.test(name) ? name : 'Error', message: failedReason, ...(stack ? { stack } : {}) };
}
