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
import { createHash } from 'node:crypto';
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

/** JSON with object keys sorted at every level, so equal specs give equal text. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return `{${entries
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * The BullMQ job id of a trial segment: the sweep, its {@link segmentKey} and a hash of the whole
 * spec (`sweep/<sweepId>/<trialId>#<segment>/<12 hex>`). A re-added trial (a resumed sweep, a
 * retry after a lost connection) finds the job already there instead of running it twice; another
 * sweep that reuses the sweep id (`runSweep`'s default is `sweep`) with other configs gets jobs of
 * its own rather than the stored results of different trials.
 */
export function trialJobId(spec: TrialSpec): string {
  const hash = createHash('sha256').update(canonicalJson(spec)).digest('hex').slice(0, 12);
  return `sweep/${escapeIdPart(spec.sweepId)}/${escapeIdPart(segmentKey(spec))}/${hash}`;
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
