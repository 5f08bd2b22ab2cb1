// LocalEngine with real child processes and real %%adapter trials (CPU backend, chosen here the
// way %backend chooses it, so the children must inherit it).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { runTrialHere, type TrialReport } from './engine.js';
import { LocalEngine } from './local-engine.js';
import { TrialError } from './trial-messages.js';
import { badTrial, comparableRecord, processAlive, slowTrial, tinyTrial, waitFor } from './trial-testing.js';
import { backendChosen, loadCore } from '../session.js';

const never = () => new AbortController().signal;

before(async () => {
  const ready = loadCore().setBackend('cpu').then(() => undefined);
  backendChosen(ready);
  await ready;
});

test('LocalEngine: 4 trials at concurrency 2 in 2 reused children (backend inherited, no stdin); results equal in-process runs bit for bit', { timeout: 60000 }, async () => {
  const engine = new LocalEngine({ concurrency: 2 });
  after(() => engine.close());
  const specs = [0, 1, 2, 3].map((i) => tinyTrial('local', i));
  let most = 0;
  const reports: TrialReport[] = [];
  const results = await Promise.all(
    specs.map((spec) =>
      engine.run(spec, {
        signal: never(),
        onReport: (report) => {
          reports.push(report);
          most = Math.max(most, engine.stats().running);
        },
      }),
    ),
  );
  const stats = engine.stats();
  assert.equal(stats.forked, 2, 'two children, each reused');
  assert.equal(stats.pids.length, 2);
  assert.equal(most, 2, 'two trials ran at once');
  for (const pid of stats.pids) {
    // Linux: the child's stdin is /dev/null, not the kernel's.
    if (fs.existsSync(`/proc/${pid}/fd/0`)) assert.equal(fs.readlinkSync(`/proc/${pid}/fd/0`), '/dev/null');
  }
  for (const [i, spec] of specs.entries()) {
    const here = await runTrialHere(spec, { signal: never() });
    const there = results[i];
    assert.equal(there.trialId, spec.trialId);
    assert.equal(there.attempt, 1);
    assert.equal((there.record as { backend: { name: string } }).backend.name, 'cpu');
    assert.deepEqual(there.metrics, here.metrics, spec.trialId);
    assert.deepEqual(comparableRecord(there), comparableRecord(here), spec.trialId);
    assert.ok(reports.some((r) => r.trialId === spec.trialId), `${spec.trialId} reported`);
  }
  assert.notEqual(results[0].metrics.loss, results[1].metrics.loss);
});

test("LocalEngine: a failing config's ConfigError reaches the caller by name and text; the child stays", { timeout: 60000 }, async () => {
  const engine = new LocalEngine({ concurrency: 1, backend: 'cpu' });
  after(() => engine.close());
  await assert.rejects(engine.run(badTrial('local', 7), { signal: never() }), (error: unknown) => {
    assert.ok(error instanceof TrialError);
    assert.equal(error.name, 'ConfigError');
    assert.equal(error.trialId, 't007');
    assert.match(error.message, /^%%adapter: a problem in a sweep trial's config:\n  adapter\.method must be one of .*got string "nosuch"/s);
    return true;
  });
  const [pid] = engine.stats().pids;
  const ok = await engine.run(tinyTrial('local', 0), { signal: never() });
  assert.equal(ok.trialId, 't000');
  assert.deepEqual(engine.stats().pids, [pid]);
  assert.equal(engine.stats().forked, 1);
});

test('LocalEngine: abort kills the trial\'s child; a child killed mid-trial fails its trial clearly and is replaced; close ends every child', { timeout: 60000 }, async () => {
  const engine = new LocalEngine({ concurrency: 1, backend: 'cpu', killGraceMs: 1000 });
  after(() => engine.close());

  // Abort after the first report: the child is gone when the run rejects with the abort reason.
  const controller = new AbortController();
  let abortedAt = 0;
  let abortedPid = 0;
  const running = engine.run(slowTrial('local', 1), {
    signal: controller.signal,
    onReport: () => {
      if (abortedAt) return;
      abortedAt = Date.now();
      abortedPid = engine.stats().pids[0];
      controller.abort();
    },
  });
  // Handled from the start: the rejection may come before the wait below has seen the report
  // (an unhandled rejection, even for a moment, fails the test under node:test).
  const rejected = assert.rejects(running, { name: 'AbortError' });
  await waitFor('the slow trial to report', () => abortedAt > 0);
  await rejected;
  assert.ok(abortedPid > 0, 'the trial ran in a child');
  assert.ok(Date.now() - abortedAt < 1500, 'SIGTERM ended it well within the grace period');
  assert.equal(processAlive(abortedPid), false);

  // SIGKILL the child from outside while it trains.
  let killed = 0;
  const dying = engine.run(slowTrial('local', 2), {
    signal: never(),
    onReport: () => {
      if (killed) return;
      killed = engine.stats().pids[0];
      process.kill(killed, 'SIGKILL');
    },
  });
  await assert.rejects(dying, (error: Error) => {
    assert.match(error.message, new RegExp(`^trial t002: its process \\(pid ${killed}\\) died mid-trial \\(signal SIGKILL\\)`));
    return true;
  });
  assert.equal(engine.stats().forked, 2);

  // The next trial gets a new child.
  const result = await engine.run(tinyTrial('local', 3), { signal: never() });
  assert.equal(result.trialId, 't003');
  assert.equal(engine.stats().forked, 3);
  const pids = engine.stats().pids;
  assert.equal(pids.length, 1);
  await engine.close();
  assert.deepEqual(engine.stats().pids, []);
  assert.equal(processAlive(pids[0]), false);
  await assert.rejects(engine.run(tinyTrial('local', 4), { signal: never() }), /LocalEngine: closed/);
});
