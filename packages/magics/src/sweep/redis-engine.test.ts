// RedisEngine and `hyperlab worker` with a real redis-server per test (free loopback port), real
// worker processes (the notebook package's CLI) and real %%adapter trials on the CPU backend.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Queue } from 'bullmq';
import { runTrialHere, segmentKey, type TrialResult, type TrialSpec } from './engine.js';
import { RedisEngine } from './redis-engine.js';
import { DEFAULT_QUEUE, redisConnection, trialJobId } from './redis-queue.js';
import { startRedis, type TestRedis } from './redis-testing.js';
import { TrialError } from './trial-messages.js';
import { badTrial, comparableRecord, slowTrial, startCliWorker, tinyTrial, waitFor, type CliWorker } from './trial-testing.js';
import { backendChosen, loadCore } from '../session.js';

const never = () => new AbortController().signal;
/** Short locks so a dead worker's trial comes back within seconds (still safe on a loaded machine). */
const FAST_LOCKS = ['--lock-duration', '3000', '--stalled-interval', '500'];

before(async () => {
  const ready = loadCore().setBackend('cpu').then(() => undefined);
  backendChosen(ready);
  await ready;
});

/** A test's server, workers, engine and a queue handle to inspect jobs; all stopped after the test. */
async function setUp(options: { persistence?: 'aof'; workers?: number; workerArgs?: string[]; engine?: { reconnectTimeoutMs?: number } } = {}) {
  const redis: TestRedis = await startRedis(options.persistence ? { persistence: options.persistence } : {});
  const workers: CliWorker[] = [];
  const addWorker = () => {
    const worker = startCliWorker(redis.url, options.workerArgs);
    workers.push(worker);
    return worker;
  };
  for (let i = 0; i < (options.workers ?? 0); i++) addWorker();
  const engine = new RedisEngine({ url: redis.url, concurrency: 4, ...options.engine });
  const queue = new Queue(DEFAULT_QUEUE, { connection: redisConnection(redis.url) });
  queue.on('error', () => undefined);
  after(async () => {
    for (const worker of workers) worker.kill('SIGKILL');
    await Promise.all(workers.map((w) => w.exited));
    await engine.close();
    await Promise.race([queue.close(), new Promise((r) => setTimeout(r, 2000))]);
    await redis.stop();
  });
  return { redis, workers, addWorker, engine, queue };
}

/** Lines of all workers that say a trial started or finished, by trial id. */
function events(workers: CliWorker[], what: 'started' | 'finished', trialId: string): string[] {
  return workers.flatMap((w) => w.lines.filter((l) => l.startsWith(`trial `) && l.includes(`/${trialId}#`) && l.endsWith(` ${what}`)));
}

test('RedisEngine: a 6-trial sweep across two `hyperlab worker` processes: each trial runs once, equals an in-process run, is kept for a re-add of the same spec; a ConfigError comes back by name', { timeout: 60000 }, async () => {
  const { engine, workers, queue } = await setUp({ workers: 2 });
  const specs = [0, 1, 2, 3, 4, 5].map((i) => tinyTrial('two-workers', i));
  const reported = new Set<string>();
  const results = await Promise.all(specs.map((spec) => engine.run(spec, { signal: never(), onReport: (r) => reported.add(r.trialId) })));
  assert.deepEqual(
    results.map((r) => [r.trialId, r.attempt]),
    specs.map((s) => [s.trialId, 1]),
  );
  // A worker's lines come through its stdout pipe, which may lag behind the result coming through Redis.
  await waitFor('every trial\'s "finished" line', () => specs.every((s) => events(workers, 'finished', s.trialId).length > 0));
  for (const spec of specs) {
    assert.equal(events(workers, 'started', spec.trialId).length, 1, `${spec.trialId} started once`);
    assert.equal(events(workers, 'finished', spec.trialId).length, 1, `${spec.trialId} finished once`);
  }
  for (const worker of workers) assert.ok(worker.lines.some((l) => / started$/.test(l)), `worker ${worker.pid} took trials:\n${worker.lines.join('\n')}`);
  assert.equal(reported.size, 6, 'progress reports reached onReport');
  const here = await runTrialHere(specs[2], { signal: never() });
  assert.deepEqual(comparableRecord(results[2]), comparableRecord(here));
  assert.equal(await queue.getCompletedCount(), 6);

  // Adding a finished trial again returns its stored result without running it.
  const again = await engine.run(specs[2], { signal: never() });
  assert.deepEqual(again, results[2]);
  assert.equal(events(workers, 'started', specs[2].trialId).length, 1);
  // The same sweep id and trial id with another config is another job, not that stored result.
  const changed = await engine.run(tinyTrial('two-workers', 2, { train: { epochs: 1, batchSize: 32, lr: 0.02 } }), { signal: never() });
  assert.equal(changed.metrics.steps, 8);
  assert.equal(events(workers, 'started', specs[2].trialId).length, 2);

  await assert.rejects(engine.run(badTrial('two-workers', 9), { signal: never() }), (error: unknown) => {
    assert.ok(error instanceof TrialError);
    assert.equal(error.name, 'ConfigError');
    assert.equal(error.trialId, 't009');
    assert.match(error.message, /^%%adapter: a problem in a sweep trial's config:\n  adapter\.method .*got string "nosuch"/s);
    return true;
  });

  for (const worker of workers) worker.kill('SIGTERM');
  assert.deepEqual(await Promise.all(workers.map((w) => w.exited)), [0, 0]);
  for (const worker of workers) assert.equal(worker.lines.at(-1), 'stopped');
});

test('RedisEngine: a worker SIGKILLed mid-trial: the other worker runs the trial again, and the sweep gets one result per segmentKey', { timeout: 60000 }, async () => {
  const { engine, workers, queue } = await setUp({ workers: 2, workerArgs: FAST_LOCKS });
  const doomed = slowTrial('kill', 0, 4);
  const specs: TrialSpec[] = [doomed, ...[1, 2, 3].map((i) => tinyTrial('kill', i))];
  let victim: CliWorker | undefined;
  const results = await Promise.all(
    specs.map((spec) =>
      engine.run(spec, {
        signal: never(),
        onReport: (report) => {
          if (report.trialId !== doomed.trialId || victim) return;
          // It is training: kill the worker that runs it.
          victim = workers.find((w) => events([w], 'started', doomed.trialId).length > 0);
          victim?.kill('SIGKILL');
        },
      }),
    ),
  );
  assert.ok(victim, 'the doomed trial reported while running');
  assert.equal(await victim.exited, 'SIGKILL');
  const survivor = workers.find((w) => w !== victim)!;
  const byKey = new Map<string, TrialResult>();
  for (const [i, result] of results.entries()) byKey.set(segmentKey(specs[i]), result);
  assert.equal(byKey.size, 4);
  assert.equal(byKey.get('t000#0')?.attempt, 2, 'the killed trial finished on its second delivery');
  for (const key of ['t001#0', 't002#0', 't003#0']) assert.equal(byKey.get(key)?.attempt, 1, key);
  await survivor.line(/\/t000#0 \(job .*, delivery 2\) finished$/);
  assert.equal(await queue.getCompletedCount(), 4);
  assert.equal(await queue.getFailedCount(), 0);
  assert.equal(byKey.get('t000#0')?.metrics.steps, 4 * 128);
});

test('RedisEngine: a stopping worker puts its trial back at once; abort cancels a running trial on its worker and removes the job', { timeout: 60000 }, async () => {
  const { engine, addWorker, queue } = await setUp();
  const first = addWorker();
  const spec = slowTrial('stop', 0, 40);
  const controller = new AbortController();
  let reports = 0;
  const running = engine.run(spec, { signal: controller.signal, onReport: () => reports++ });
  await waitFor('a report from the first worker', () => reports > 0, 30000);
  first.kill('SIGTERM');
  assert.equal(await first.exited, 0);
  assert.ok(first.lines.some((l) => l.endsWith('put back in the queue (worker stopping)')), first.lines.join('\n'));
  assert.equal(await queue.getJobState(trialJobId(spec)), 'waiting');

  const second = addWorker();
  await second.line(/\/t000#0 \(job .*, delivery 2\) started$/);
  const before = reports;
  await waitFor('a report from the second worker', () => reports > before, 30000);
  controller.abort();
  await assert.rejects(running, { name: 'AbortError' });
  await second.line(/cancelled by its sweep$/);
  assert.equal(await queue.getJobState(trialJobId(spec)), 'unknown');

  // The worker lives on, and the same trial can be run again from scratch.
  const rerun = await engine.run(tinyTrial('stop', 0), { signal: never() });
  assert.equal(rerun.attempt, 1);
  second.kill('SIGTERM');
  assert.equal(await second.exited, 0);
});

for (const persistence of [false, 'aof'] as const) {
  const how = persistence ? 'with an append-only file: the sweep resumes, no trial runs twice' : 'losing its data: the sweep resumes by adding the lost jobs again';
  test(`RedisEngine: Redis restarted mid-sweep ${how}; one result per trial`, { timeout: 60000 }, async () => {
    const { engine, redis, workers, queue } = await setUp({ workers: 1, ...(persistence ? { persistence } : {}) });
    const specs = [0, 1, 2].map((i) => slowTrial(`restart-${persistence}`, i, 3));
    let restarted: Promise<void> | undefined;
    const results = await Promise.all(
      specs.map((spec) =>
        engine.run(spec, {
          signal: never(),
          onReport: () => {
            restarted ??= redis.restart({ downMs: 500 });
          },
        }),
      ),
    );
    assert.ok(restarted, 'restarted while a trial was training');
    await restarted;
    assert.deepEqual(
      results.map((r) => [r.trialId, r.metrics.steps]),
      specs.map((s) => [s.trialId, 3 * 128]),
    );
    // Redis holds each trial's job once, completed.
    assert.equal(await queue.getCompletedCount(), 3);
    assert.equal(await queue.getFailedCount(), 0);
    const runs = specs.map((s) => events(workers, 'started', s.trialId).length);
    if (persistence) assert.deepEqual(runs, [1, 1, 1], 'with the data kept, the running trial finished where it was');
    else assert.ok(runs.some((n) => n === 2), `the trial running when the data was lost ran again: ${runs}`);
  });
}

test('RedisEngine: abort removes a waiting job; Redis gone for good fails pending trials naming the URL; close() stays bounded', { timeout: 60000 }, async () => {
  const { engine, redis, queue } = await setUp({ engine: { reconnectTimeoutMs: 1500 } });
  const controller = new AbortController();
  const waiting = tinyTrial('gone', 0);
  const run = engine.run(waiting, { signal: controller.signal });
  await waitFor('the job to be queued', async () => (await queue.getJobState(trialJobId(waiting))) === 'waiting');
  controller.abort();
  await assert.rejects(run, { name: 'AbortError' });
  assert.equal(await queue.getJobState(trialJobId(waiting)), 'unknown');

  const pending = engine.run(tinyTrial('gone', 1), { signal: never() });
  await waitFor('the second job to be queued', async () => (await queue.getJobState(trialJobId(tinyTrial('gone', 1)))) === 'waiting');
  // An engine that would wait a minute for Redis still closes promptly while it is away.
  const patient = new RedisEngine({ url: redis.url, reconnectTimeoutMs: 60000, abortTimeoutMs: 1000 });
  const stranded = patient.run(tinyTrial('gone', 3), { signal: never() });
  await waitFor('the third job to be queued', async () => (await queue.getJobState(trialJobId(tinyTrial('gone', 3)))) === 'waiting');
  const stoppedAt = Date.now();
  await redis.stop();
  const message = new RegExp(`^lost the connection to Redis at redis://127\\.0\\.0\\.1:${redis.port} and it did not come back within 1\\.5 s`);
  await assert.rejects(pending, { name: 'RedisConnectionError', message });
  assert.ok(Date.now() - stoppedAt < 5000);
  await assert.rejects(engine.run(tinyTrial('gone', 2), { signal: never() }), { name: 'RedisConnectionError', message });
  const closingAt = Date.now();
  await patient.close();
  await assert.rejects(stranded, /RedisEngine: closed/);
  assert.ok(Date.now() - closingAt < 4000, 'close() is bounded while Redis is away');
});
