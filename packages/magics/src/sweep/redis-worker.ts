/**
 * `hyperlab worker`'s engine room: a BullMQ {@link Worker} on the sweep queue whose processor hands
 * each trial to a forked child process (the same pool as `LocalEngine`), because training blocks
 * the event loop and a blocked worker could not renew its job locks (BullMQ would then call the
 * trial stalled and run it again elsewhere). The worker's own process only moves messages: the
 * trial's reports become job progress, its result the job's return value, its error the job's
 * failure. Trials are not retried on failure (a config error fails the same way twice); a worker
 * that dies mid-trial loses its lock, and BullMQ's stalled-job check, in any live worker, puts the
 * trial back in the queue (up to `maxStalledCount` times).
 *
 * `stop()` puts the trials this worker is running back in the queue at once (their children are
 * killed; another worker starts them again) and closes the connections. A sweep that aborts a
 * trial publishes its job id on the cancel channel (`redis-queue.ts`); the worker running it
 * kills its child and fails the job as cancelled.
 */
import * as os from 'node:os';
import { UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { BackendName } from '@hyperlab/core';
import type { TrialResult, TrialSpec } from './engine.js';
import { LocalEngine } from './local-engine.js';
import { DEFAULT_QUEUE, cancelChannel, displayUrl, redisConnection } from './redis-queue.js';
import { BACKEND_ENV, TrialError } from './trial-messages.js';

/** Options of {@link startRedisWorker}. */
export interface RedisWorkerOptions {
  /** `redis://[user:password@]host:port[/db]` (`rediss://` for TLS). */
  url: string;
  /** The sweep's queue. Default `hyperlab-trials`. */
  queue?: string;
  /** Trials at once, each in its own child process. Default 1. */
  concurrency?: number;
  /** A running trial's lock, renewed every half of it, in ms. Default 30000. */
  lockDurationMs?: number;
  /** How often trials of dead workers are looked for and put back in the queue, in ms. Default 15000. */
  stalledIntervalMs?: number;
  /** How many times a trial may lose its worker before it fails. Default 2. */
  maxStalledCount?: number;
  /** The children's backend. Default `$HYPERLAB_BACKEND`, else `auto`. */
  backend?: BackendName | 'auto';
  /** The worker's name in Redis (`CLIENT LIST`) and in logs. Default `<hostname>:<pid>`. */
  name?: string;
  /** Receives one line per event: started, trial started/finished/failed/re-queued, connection trouble. */
  log?: (line: string) => void;
}

/** A running worker. */
export interface RedisWorkerHandle {
  /** Its name (`<hostname>:<pid>` unless given). */
  readonly name: string;
  /** Puts its running trials back in the queue, stops taking new ones and closes its connections. Idempotent. */
  stop(): Promise<void>;
  /** Resolves once the worker has stopped (after {@link stop}). */
  readonly closed: Promise<void>;
}

/** Why a running trial is being stopped by this process. */
type StopCause = 'stopping' | 'cancelled';

/** Logs a repeated message (a connection error every reconnect) at most every 10 s. */
function quietLog(log: (line: string) => void): (line: string) => void {
  const last = new Map<string, number>();
  return (line) => {
    const now = Date.now();
    if (now - (last.get(line) ?? 0) < 10000) return;
    last.set(line, now);
    log(line);
  };
}

function checkInteger(name: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min) throw new RangeError(`${name} must be an integer ≥ ${min}, got ${value}`);
  return value;
}

/**
 * Starts a worker on the queue (see the module comment). Throws a RangeError at once for a bad
 * URL or option; an unreachable Redis is not an error (the worker logs it and keeps trying, so
 * workers may start before the server).
 */
export async function startRedisWorker(options: RedisWorkerOptions): Promise<RedisWorkerHandle> {
  const connection = redisConnection(options.url);
  const url = displayUrl(options.url);
  const queue = options.queue ?? DEFAULT_QUEUE;
  const concurrency = checkInteger('concurrency', options.concurrency ?? 1, 1);
  const lockDuration = checkInteger('lockDurationMs', options.lockDurationMs ?? 30000, 1000);
  const stalledInterval = checkInteger('stalledIntervalMs', options.stalledIntervalMs ?? 15000, 100);
  const maxStalledCount = checkInteger('maxStalledCount', options.maxStalledCount ?? 2, 0);
  const backend = options.backend ?? ((process.env[BACKEND_ENV] || 'auto') as BackendName | 'auto');
  const name = options.name ?? `${os.hostname()}:${process.pid}`;
  const log = options.log ?? (() => {});
  const trouble = quietLog(log);

  const engine = new LocalEngine({ concurrency, backend, log: (line) => log(`  ${line}`) });
  const running = new Map<string, { controller: AbortController; cause?: StopCause }>();
  let stopping = false;

  const processor = async (job: Job<TrialSpec, TrialResult>, token?: string): Promise<TrialResult> => {
    const spec = job.data;
    const label = `trial ${spec.sweepId}/${spec.trialId}#${spec.segment ?? 0} (job ${job.id}, delivery ${job.attemptsStarted})`;
    if (stopping) {
      await job.moveToWait(token);
      throw new WaitingError();
    }
    const entry: { controller: AbortController; cause?: StopCause } = { controller: new AbortController() };
    running.set(job.id!, entry);
    log(`${label} started`);
    // Reports go out in order; the result waits for them so none arrives after completion.
    let reports: Promise<unknown> = Promise.resolve();
    try {
      const result = await engine.run(spec, {
        signal: entry.controller.signal,
        onReport: (report) => {
          reports = reports.then(() => job.updateProgress(report as unknown as object)).catch(() => undefined);
        },
      });
      await reports;
      log(`${label} finished`);
      return { ...result, attempt: job.attemptsStarted };
    } catch (error) {
      if (entry.cause === 'stopping') {
        log(`${label} put back in the queue (worker stopping)`);
        await job.moveToWait(token);
        throw new WaitingError();
      }
      if (entry.cause === 'cancelled') {
        log(`${label} cancelled by its sweep`);
        throw new UnrecoverableError(`trial ${spec.trialId} was cancelled by its sweep`);
      }
      log(`${label} failed: ${(error as Error).message.split('\n')[0]}`);
      if (error instanceof TrialError) {
        // BullMQ keeps the message and the stack; `Name: message` lets the sweep rebuild the error.
        const failure = new Error(error.message);
        failure.name = error.name;
        failure.stack = `${error.name}: ${error.message}`;
        throw failure;
      }
      throw error;
    } finally {
      running.delete(job.id!);
    }
  };

  const worker = new Worker<TrialSpec, TrialResult>(queue, processor, {
    connection,
    concurrency,
    lockDuration,
    stalledInterval,
    maxStalledCount,
    name,
    autorun: false,
    // After a connection error BullMQ waits this long before fetching again (default 15 s); a
    // restarted Redis should see its workers back within a second.
    runRetryDelay: 1000,
  });
  worker.on('error', (error) => trouble(`Redis at ${url}: ${error.message}`));
  worker.on('stalled', (jobId) => log(`job ${jobId} had lost its worker; back in the queue`));
  worker.on('lockRenewalFailed', (jobIds) => trouble(`could not renew the lock of ${jobIds.join(', ')} (Redis unreachable?)`));

  const subscriber = new Redis(options.url, { maxRetriesPerRequest: null, retryStrategy: connection.retryStrategy });
  subscriber.on('error', (error) => trouble(`Redis at ${url} (cancel channel): ${error.message}`));
  subscriber.on('message', (_channel, jobId: string) => {
    const entry = running.get(jobId);
    if (!entry || entry.cause) return;
    entry.cause = 'cancelled';
    entry.controller.abort(new Error('cancelled by its sweep'));
  });
  void subscriber.subscribe(cancelChannel(queue)).catch((error: Error) => trouble(`could not subscribe to ${cancelChannel(queue)}: ${error.message}`));

  let closedResolve = () => {};
  const closed = new Promise<void>((resolve) => (closedResolve = resolve));
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      stopping = true;
      const closing = worker.close();
      for (const entry of running.values()) {
        entry.cause ??= 'stopping';
        entry.controller.abort(new Error('the worker is stopping'));
      }
      await closing.catch((error: Error) => log(`closing the worker: ${error.message}`));
      await engine.close();
      subscriber.disconnect();
      closedResolve();
    })());

  void worker.run().catch((error: Error) => {
    log(`the worker stopped: ${error.message}`);
    void stop();
  });
  log(`worker ${name} taking trials from queue "${queue}" at ${url} (concurrency ${concurrency}, backend ${backend}, lock ${lockDuration} ms, stalled check every ${stalledInterval} ms)`);
  return { name, stop, closed };
}
