/**
 * One forked trial child (`local-worker.js`) seen from its parent: forked with the backend named
 * explicitly and without the parent's stdin, it runs one trial at a time and is reused for the
 * next (TensorFlow.js loads once per child). A trial's error comes back as a {@link TrialError}; a
 * child that dies mid-trial fails that trial with a message naming its pid, exit status and last
 * output lines; {@link TrialProcess.kill} sends SIGTERM, then SIGKILL after a grace period.
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import type { TrialReport, TrialResult, TrialSpec } from './engine.js';
import { BACKEND_ENV, TrialError, type ChildMessage, type WireError } from './trial-messages.js';

/** Options of {@link TrialProcess.fork}. */
export interface TrialProcessOptions {
  /** The backend the child selects (`node`, `wasm`, `cpu` or `auto`), passed as `HYPERLAB_BACKEND`. */
  backend: string;
  /** How long SIGTERM has before SIGKILL, in ms. */
  killGraceMs: number;
  /** Receives each line the child prints (stdout and stderr). Default: dropped (the last lines still reach error messages). */
  log?: (line: string) => void;
  /** Extra environment variables for the child (on top of this process's). */
  env?: NodeJS.ProcessEnv;
}

/** The compiled child entry beside this file. */
const ENTRY = path.join(__dirname, 'local-worker.js');
/** Output lines kept for the message of a child that died. */
const TAIL_LINES = 12;

/** tfjs-backend-cpu's "install tfjs-node" banner, printed by every child on the CPU backend: dropped. */
const BANNER = /^(=+|Hi, looks like you are running TensorFlow\.js in Node\.js\..*)\s*$/;

/** How a process ended, in words: `signal SIGKILL` or `exit code 1`. */
function exitStatus(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `signal ${signal}` : `exit code ${code}`;
}

/** A forked trial child; see the module comment. */
export class TrialProcess {
  /** The child's pid. */
  readonly pid: number;
  /** Resolves when the child has exited. */
  readonly exited: Promise<void>;
  private readonly child: ChildProcess;
  private readonly ready: Promise<string>;
  private readonly tail: string[] = [];
  private exitText?: string;
  private busy = false;
  private stopReason?: string;

  private constructor(private readonly options: TrialProcessOptions) {
    this.child = fork(ENTRY, [], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: { ...process.env, ...options.env, [BACKEND_ENV]: options.backend },
      // The parent's flags (--test, --inspect, a kernel's loader hooks) are not the child's business.
      execArgv: [],
    });
    if (this.child.pid === undefined) throw new Error(`could not fork a trial process (${ENTRY})`);
    this.pid = this.child.pid;
    for (const stream of [this.child.stdout, this.child.stderr]) this.collect(stream);
    // Failures to signal or message a dying child surface through 'close' and the run's callbacks.
    this.child.on('error', (error) => this.line(`(trial process ${this.pid}: ${error.message})`));
    this.exited = new Promise((resolve) => {
      // 'close' (not 'exit'): its output is read to the end, so a death's message has its last lines.
      this.child.once('close', (code, signal) => {
        this.exitText = exitStatus(code, signal);
        resolve();
      });
    });
    this.ready = new Promise<string>((resolve, reject) => {
      const onMessage = (message: ChildMessage) => {
        if (message.type === 'ready') resolve(message.backend);
        else if (message.type === 'error') reject(new TrialError('', message.error));
        else return;
        this.child.off('message', onMessage);
      };
      this.child.on('message', onMessage);
      void this.exited.then(() => reject(new Error(`the trial process (pid ${this.pid}) exited before it was ready (${this.exitText})${this.tailText()}`)));
    });
    // A child that never gets a trial must not leave an unhandled rejection behind.
    this.ready.catch(() => undefined);
  }

  /** Forks a child; it loads TensorFlow.js and its backend in the background. */
  static fork(options: TrialProcessOptions): TrialProcess {
    return new TrialProcess(options);
  }

  /** Whether the child is still running. */
  get alive(): boolean {
    return this.exitText === undefined;
  }

  /** The child's backend, once it is ready. */
  backend(): Promise<string> {
    return this.ready;
  }

  /**
   * Runs one trial in the child. Rejects with a {@link TrialError} when the trial fails, with an
   * Error naming the pid and exit status when the child dies, and with `signal.reason` once an
   * abort has killed the child.
   */
  async run(spec: TrialSpec, { signal, onReport }: { signal: AbortSignal; onReport?: (report: TrialReport) => void }): Promise<TrialResult> {
    if (this.busy) throw new Error(`trial process ${this.pid} is already running a trial`);
    this.busy = true;
    try {
      await this.untilReady(spec, signal);
      return await this.runReady(spec, signal, onReport);
    } finally {
      this.busy = false;
    }
  }

  private async untilReady(spec: TrialSpec, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    let onAbort = () => {};
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => void this.kill().then(() => reject(signal.reason));
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      await Promise.race([this.ready, aborted]);
    } catch (error) {
      if (error instanceof TrialError) throw new TrialError(spec.trialId, { name: error.name, message: error.message, ...(error.remoteStack ? { stack: error.remoteStack } : {}) });
      throw error;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  private runReady(spec: TrialSpec, signal: AbortSignal, onReport?: (report: TrialReport) => void): Promise<TrialResult> {
    return new Promise<TrialResult>((resolve, reject) => {
      let settled = false;
      const finish = (settle: () => void) => {
        if (settled) return;
        settled = true;
        this.child.off('message', onMessage);
        signal.removeEventListener('abort', onAbort);
        settle();
      };
      const onMessage = (message: ChildMessage) => {
        if (message.type === 'report') {
          try {
            onReport?.(message.report);
          } catch {
            // A listener's error is not the trial's.
          }
        } else if (message.type === 'result') finish(() => resolve(message.result));
        else if (message.type === 'error') finish(() => reject(new TrialError(spec.trialId, message.error as WireError)));
      };
      const onAbort = () => {
        // Stop listening at once, but settle only when the child is gone.
        this.child.off('message', onMessage);
        void this.kill().then(() => finish(() => reject(signal.reason)));
      };
      this.child.on('message', onMessage);
      signal.addEventListener('abort', onAbort, { once: true });
      void this.exited.then(() =>
        finish(() => reject(signal.aborted ? signal.reason : new Error(this.stopReason ? `trial ${spec.trialId}: stopped (${this.stopReason})` : `trial ${spec.trialId}: its process (pid ${this.pid}) died mid-trial (${this.exitText})${this.tailText()}`))),
      );
      if (!this.child.connected) return; // exited handles it
      this.child.send({ type: 'run', spec }, (error) => {
        if (error) finish(() => reject(new Error(`trial ${spec.trialId}: could not send it to its process (pid ${this.pid}): ${error.message}`)));
      });
    });
  }

  /**
   * Ends the child: SIGTERM, then SIGKILL after the grace period. Resolves when it has exited. A
   * trial running then fails with `stopped (reason)` (an abort rejects with its own reason instead).
   */
  async kill(reason?: string): Promise<void> {
    if (!this.alive) return;
    this.stopReason ??= reason;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), this.options.killGraceMs);
    await this.exited;
    clearTimeout(timer);
  }

  private collect(stream: NodeJS.ReadableStream | null): void {
    if (!stream) return;
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) this.line(line);
    });
    stream.on('end', () => {
      if (partial) this.line(partial);
      partial = '';
    });
  }

  private line(line: string): void {
    if (BANNER.test(line) || !line.trim()) return;
    this.tail.push(line);
    if (this.tail.length > TAIL_LINES) this.tail.shift();
    this.options.log?.(line);
  }

  private tailText(): string {
    return this.tail.length ? `; its last output:\n${this.tail.join('\n')}` : '';
  }
}
