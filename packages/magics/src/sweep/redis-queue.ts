/**
 * What `RedisEngine` (the sweep's side) and `hyperlab worker` (`startRedisWorker`) agree on: the
 * default queue, how a trial segment becomes a BullMQ job id (so adding it again is a no-op), the
 * channel that carries cancellations, and the ioredis options both use.
 *
 * A job's data is the {@link TrialSpec}; its return value the {@link TrialResult} (with `attempt`
 * = BullMQ's `attemptsStarted`, the delivery that produced it); its progress the
 * {@link TrialReport}s; its failure the trial's error message, with `Name: message` as its stack
 * (see `wireErrorFromJob`).
 */
import type { RedisOptions } from 'bullmq';
import { segmentKey, type TrialSpec } from './engine.js';

/** The queue sweeps and workers use unless told otherwise. */
export const DEFAULT_QUEUE = 'hyperlab-trials';

/** The BullMQ job name of a trial. */
export const TRIAL_JOB = 'trial';

/** A job id part without `:` (BullMQ refuses it in custom ids) and still one-to-one. */
function escapeIdPart(text: string): string {
  return text.replace(/%/g, '%25').replace(/:/g, '%3A');
}

/**
 * The BullMQ job id of a trial segment: the sweep and {@link segmentKey}, so a re-added trial (a
 * resumed sweep, a retry after a lost connection) finds the job already there instead of running
 * it twice.
 */
export function trialJobId(spec: Pick<TrialSpec, 'sweepId' | 'trialId' | 'segment'>): string {
  return `sweep/${escapeIdPart(spec.sweepId)}/${escapeIdPart(segmentKey(spec))}`;
}

/** The Redis pub/sub channel on which a sweep asks workers to stop a running trial (message: its job id). */
export function cancelChannel(queue: string): string {
  return `hyperlab:${queue}:cancel`;
}

/** The URL with its password hidden, for messages and logs. */
export function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

/**
 * Checks a Redis URL (`redis://[user:password@]host:port[/db]`, `rediss://` for TLS) and
 * returns the connection options BullMQ and ioredis get: `maxRetriesPerRequest: null` (commands
 * wait while the connection is re-established, as BullMQ's blocking connections require) and
 * reconnection every ≤ 1 s. Throws a RangeError naming the URL when it is not one.
 */
export function redisConnection(url: string): RedisOptions & { url: string } {
  if (!/^rediss?:\/\//.test(url)) throw new RangeError(`the Redis URL "${url}" must start with redis:// or rediss://`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new RangeError(`the Redis URL "${displayUrl(url)}" is not a valid URL`);
  }
  if (!parsed.hostname) throw new RangeError(`the Redis URL "${displayUrl(url)}" names no host`);
  return {
    url,
    maxRetriesPerRequest: null,
    retryStrategy: (times: number) => Math.min(100 * times, 1000),
  };
}
