/**
 * `RedisEngine`: a {@link SweepEngine} whose trials are BullMQ jobs in Redis, run by
 * `hyperlab worker` processes on any machine (`redis-worker.ts`).
 *
 * - Each {@link RedisEngine.run} adds one job whose id is the sweep and the trial segment
 *   (`trialJobId`), so adding it again (a resumed sweep, a retry) finds the same job and its
 *   result instead of running the trial twice; a finished job is kept `keepResultsSeconds`.
 * - Delivery is at least once (a worker that dies mid-trial has it run again elsewhere), but a
 *   job completes once and each `run` settles once: one result per trial segment, whose
 *   `attempt` is the delivery that produced it.
 * - Reports (job progress) reach `onReport`; a failure rejects with a `TrialError` carrying the
 *   trial's own error name and message (`ConfigError` …).
 * - Abort removes a waiting job, or asks the worker running it to kill it (cancel channel), then
 *   removes it, and rejects with the signal's reason.
 * - **Lost connection**: commands wait while ioredis reconnects. If Redis answers again within
 *   `reconnectTimeoutMs`, the sweep resumes: every pending job is looked up again; a finished one
 *   settles, and one Redis no longer has (a restart without persistence) is added again. If it
 *   does not, every pending `run` rejects with a {@link RedisConnectionError} naming the URL.
 */
import * as os from 'node:os';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import type { SweepEngine, TrialReport, TrialResult, TrialSpec } from './engine.js';
import { DEFAULT_QUEUE, TRIAL_JOB, cancelChannel, displayUrl, redisConnection, trialJobId } from './redis-queue.js';
import { TrialError, wireErrorFromJob } from './trial-messages.js';

/** Options of {@link RedisEngine}. */
export interface RedisEngineOptions {
  /** `redis://[user:password@]host:port[/db]` (`rediss://` for TLS). */
  url: string;
  /** The queue the workers take trials from. Default `hyperlab-trials`. */
  queue?: string;
  /**
   * Trials the sweep keeps in the queue at once; set it to the workers' total concurrency.
   * Default `os.availableParallelism()`.
   */
  concurrency?: number;
  /** How long Redis may be unreachable before pending trials fail, in ms. Default 30000. */
  reconnectTimeoutMs?: number;
  /** How long an abort waits for the worker to let the trial go, in ms. Default 10000. */
  abortTimeoutMs?: number;
  /** How long finished jobs (and so their results) stay in Redis, in seconds. Default 7 days. */
  keepResultsSeconds?: number;
  /** How often pending jobs are looked up in case an event was missed, in ms. Default 2000. */
  pollIntervalMs?: number;
}

/** Redis stayed unreachable longer than `reconnectTimeoutMs`. */
export class RedisConnectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedisConnectionError';
  }
}

/** One `run` waiting for its job. */
interface Pending {
  spec: TrialSpec;
  jobId: string;
  onReport?: (report: TrialReport) => void;
  resolve: (result: TrialResult) => void;
  reject: (error: unknown) => void;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `work`, or a rejection once `ms` have passed (Redis commands wait while it is unreachable). */
function within<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), Math.max(0, ms))));
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** The distributed engine; see the module comment. */
export class RedisEngine implements SweepEngine {
  readonly concurrency: number;
  /** The queue's name. */
  readonly queueName: string;
  private readonly url: string;
  private readonly client: Redis;
  private readonly queue: Queue<TrialSpec, TrialResult>;
  private readonly events: QueueEvents;
  private readonly ready: Promise<void>;
  private readonly pending = new Map<string, Pending>();
  private readonly reconnectTimeoutMs: number;
  private readonly abortTimeoutMs: number;
  private readonly keepSeconds: number;
  private readonly poller: NodeJS.Timeout;
  private downSince?: number;
  private downTimer?: NodeJS.Timeout;
  private lastError = '';
  private unreachable?: RedisConnectionError;
  private closed = false;

  /** Connects (lazily: an unreachable Redis shows up in `run`). Throws a RangeError for a bad URL. */
  constructor(options: RedisEngineOptions) {
    const connection = redisConnection(options.url);
    this.url = displayUrl(options.url);
    this.queueName = options.queue ?? DEFAULT_QUEUE;
    this.concurrency = options.concurrency ?? os.availableParallelism();
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1) throw new RangeError(`RedisEngine: concurrency must be an integer ≥ 1, got ${this.concurrency}`);
    this.reconnectTimeoutMs = options.reconnectTimeoutMs ?? 30000;
    this.abortTimeoutMs = options.abortTimeoutMs ?? 10000;
    this.keepSeconds = options.keepResultsSeconds ?? 7 * 24 * 3600;
    this.client = new Redis(options.url, { maxRetriesPerRequest: null, retryStrategy: connection.retryStrategy });
    this.client.on('error', (error: Error) => {
      this.lastError = error.message;
      if (this.client.status !== 'ready') this.down();
    });
    this.client.on('close', () => this.down());
    this.client.on('ready', () => this.up());
    this.queue = new Queue<TrialSpec, TrialResult>(this.queueName, { connection: this.client });
    this.events = new QueueEvents(this.queueName, { connection });
    this.queue.on('error', (error: Error) => (this.lastError = error.message));
    this.events.on('error', (error: Error) => (this.lastError = error.message));
    this.events.on('completed', ({ jobId, returnvalue }) => this.completed(jobId, returnvalue));
    this.events.on('failed', ({ jobId, failedReason }) => void this.failed(jobId, failedReason));
    this.events.on('progress', ({ jobId, data }) => this.progress(jobId, data));
    this.ready = Promise.all([this.queue.waitUntilReady(), this.events.waitUntilReady()]).then(() => undefined);
    this.ready.catch(() => undefined);
    this.poller = setInterval(() => void this.resync(), options.pollIntervalMs ?? 2000);
    this.poller.unref();
  }

  /**
   * Adds the trial's job (or finds it) and waits for its result; see the module comment for
   * failures, aborts and lost connections.
   */
  async run(spec: TrialSpec, { signal, onReport }: { signal: AbortSignal; onReport?: (report: TrialReport) => void }): Promise<TrialResult> {
    if (this.closed) throw new Error('RedisEngine: closed');
    signal.throwIfAborted();
    if (this.unreachable) throw this.unreachable;
    const jobId = trialJobId(spec);
    if (this.pending.has(jobId)) throw new Error(`RedisEngine: trial ${spec.trialId} segment ${spec.segment ?? 0} of sweep ${spec.sweepId} is already running`);
    const result = new Promise<TrialResult>((resolve, reject) => {
      this.pending.set(jobId, { spec, jobId, ...(onReport ? { onReport } : {}), resolve, reject });
    });
    const onAbort = () => void this.abort(jobId, signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    // Not awaited here: while Redis is unreachable these wait, and the run must still settle
    // (by the reconnect timeout or an abort).
    this.add(spec, jobId)
      .then(() => this.check(jobId))
      .catch((error: unknown) => this.settle(jobId, (p) => p.reject(error)));
    return result.finally(() => signal.removeEventListener('abort', onAbort));
  }

  /** Cancels every pending trial (as an abort would) and closes the connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.poller);
    clearTimeout(this.downTimer);
    const closing = new Error('RedisEngine: closed');
    await Promise.all([...this.pending.keys()].map((jobId) => (this.unreachable ? this.settle(jobId, (p) => p.reject(closing)) : this.abort(jobId, closing))));
    const bounded = (work: Promise<unknown>) => within(work, 3000).catch(() => undefined);
    await bounded(this.events.close());
    await bounded(this.queue.close());
    if (this.client.status === 'ready') await bounded(this.client.quit());
    this.client.disconnect();
  }

  private async add(spec: TrialSpec, jobId: string): Promise<void> {
    await this.ready;
    await this.queue.add(TRIAL_JOB, spec, {
      jobId,
      attempts: 1,
      removeOnComplete: { age: this.keepSeconds },
      removeOnFail: { age: this.keepSeconds },
    });
  }

  /** Settles a pending run from its job's state; adds the job again if Redis lost it. */
  private async check(jobId: string): Promise<void> {
    const pending = this.pending.get(jobId);
    if (!pending) return;
    const state = await this.queue.getJobState(jobId);
    if (state === 'unknown') {
      await this.add(pending.spec, jobId);
      return;
    }
    if (state !== 'completed' && state !== 'failed') return;
    const job = await this.queue.getJob(jobId);
    if (!job) return;
    if (state === 'completed') this.completed(jobId, job.returnvalue);
    else this.settle(jobId, (p) => p.reject(new TrialError(p.spec.trialId, wireErrorFromJob(job.failedReason, job.stacktrace))));
  }

  private async resync(): Promise<void> {
    if (this.closed || this.downSince !== undefined || this.pending.size === 0) return;
    for (const jobId of [...this.pending.keys()]) {
      try {
        await this.check(jobId);
      } catch (error) {
        this.lastError = (error as Error).message;
      }
    }
  }

  private completed(jobId: string, value: unknown): void {
    const result = (typeof value === 'string' ? JSON.parse(value) : value) as TrialResult;
    this.settle(jobId, (p) => p.resolve(result));
  }

  private async failed(jobId: string, failedReason: string): Promise<void> {
    if (!this.pending.has(jobId)) return;
    const job = await this.queue.getJob(jobId).catch(() => undefined);
    this.settle(jobId, (p) => p.reject(new TrialError(p.spec.trialId, wireErrorFromJob(job?.failedReason ?? failedReason, job?.stacktrace))));
  }

  private progress(jobId: string, data: unknown): void {
    const pending = this.pending.get(jobId);
    if (!pending?.onReport || typeof data !== 'object' || data === null) return;
    try {
      pending.onReport(data as TrialReport);
    } catch {
      // A listener's error is not the trial's.
    }
  }

  /** Takes the run out of `pending` and settles it, once. */
  private settle(jobId: string, how: (pending: Pending) => void): void {
    const pending = this.pending.get(jobId);
    if (!pending) return;
    this.pending.delete(jobId);
    how(pending);
  }

  /** Removes the job, asking its worker to let go of it while it runs; then rejects with `reason`. */
  private async abort(jobId: string, reason: unknown): Promise<void> {
    const pending = this.pending.get(jobId);
    if (!pending) return;
    this.pending.delete(jobId);
    const deadline = Date.now() + this.abortTimeoutMs;
    // Commands wait while Redis is unreachable: none may outlast the deadline.
    const bounded = <T>(command: Promise<T>): Promise<T> => within(command, deadline - Date.now());
    try {
      while (Date.now() < deadline && this.unreachable === undefined) {
        if ((await bounded(this.queue.remove(jobId))) === 1) break;
        const state = await bounded(this.queue.getJobState(jobId));
        if (state === 'unknown') break;
        if (state === 'active') await bounded(this.client.publish(cancelChannel(this.queueName), jobId));
        await sleep(200);
      }
    } catch {
      // Redis is away or the worker did not let go in time: the job stays where it is (a worker
      // may still finish it); the rejection below stands.
    }
    pending.reject(reason);
  }

  private down(): void {
    if (this.closed || this.downSince !== undefined) return;
    this.downSince = Date.now();
    this.downTimer = setTimeout(() => this.giveUp(), this.reconnectTimeoutMs);
  }

  private up(): void {
    if (this.downSince === undefined) return;
    clearTimeout(this.downTimer);
    this.downSince = undefined;
    this.unreachable = undefined;
    // Events may have been missed, and a restarted Redis without persistence has lost the jobs.
    void this.resync();
  }

  private giveUp(): void {
    const seconds = Math.round(this.reconnectTimeoutMs / 100) / 10;
    this.unreachable = new RedisConnectionError(
      `lost the connection to Redis at ${this.url} and it did not come back within ${seconds} s${this.lastError ? ` (${this.lastError})` : ''}; ` +
        `the sweep's trials may still be in queue "${this.queueName}": running the sweep again with the same sweep id picks up their results`,
    );
    for (const jobId of [...this.pending.keys()]) this.settle(jobId, (p) => p.reject(this.unreachable));
  }
}
