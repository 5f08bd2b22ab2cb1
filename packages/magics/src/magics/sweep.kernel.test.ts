/**
 * `%%sweep` in a real kernel over ZeroMQ: a grid sweep of %%adapter run inline and on two local
 * child processes gives the same trials and the same record (trials ordered by id, not finish
 * time); a base model named by run travels to the trials; the record carries every trial and the
 * decisions and verifies against a fresh run; trials are runs for %compare; config errors point at
 * the cell line (space, algorithm, the base's own keys) and leave the kernel running; a scaling fit
 * recovers the exponent a synthetic power law puts in.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { launchKernel, streamText, type LaunchedKernel, type Message } from '@hyperlab/kernel';
import { compareRecords, RUN_RECORD_MIME, validateRunRecord, type RunRecord } from '@hyperlab/core/runs';
import { startRedis } from '../sweep/redis-testing.js';
import { startCliWorker } from '../sweep/trial-testing.js';

const records = (iopub: Message[]): RunRecord[] =>
  iopub.filter((m) => m.header.msg_type === 'display_data' && (m.content.data as Record<string, unknown>)[RUN_RECORD_MIME]).map((m) => (m.content.data as Record<string, RunRecord>)[RUN_RECORD_MIME]);

const errorText = (iopub: Message[]): string =>
  iopub
    .filter((m) => m.header.msg_type === 'error')
    .map((m) => `${String(m.content.ename)}: ${String(m.content.evalue)}`)
    .join('\n');

const sweepCell = (name: string, engine: string, extra = ''): string => `%%sweep --as ${name}
magic: adapter
base:
  model: base
  data: { dataset: sum-greater-than, train: 300, test: 200 }
  adapter: { method: lora, r: 2, targetModules: ['0'], modulesToSave: ['1'] }
  train: { epochs: 2, batchSize: 50, lr: 0.01 }
space:
  adapter.r: { grid: [1, 4] }
  train.lr: { grid: [0.003, 0.03] }
algorithm: grid
budget: { concurrency: 2 }
engine: ${engine}${extra}
`;

/** Pids of the kernel's forked trial processes (`sweep/local-worker.js`), from /proc. */
function trialChildren(kernelPid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (Number(/^PPid:\s+(\d+)/m.exec(status)?.[1]) === kernelPid && cmdline.includes('local-worker.js')) pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

type Outcome = { trials: Array<{ trialId: string; params: Record<string, unknown>; value: number; status: string; segments: Array<{ record: { name: string; contentHash: string } }> }>; decisions: unknown[] };

describe('%%sweep in a real kernel', () => {
  let dir: string;
  let kernel: LaunchedKernel;
  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'hyperlab-sweep-'));
    kernel = await launchKernel({ cwd: dir });
    const base = await kernel.client.execute(`%backend cpu\n`, { timeoutMs: 60_000 });
    assert.equal(base.reply.content.status, 'ok');
    const { reply } = await kernel.client.execute(
      `%%adapter --as base\nmodel: { mlp: [20, 16, 2] }\ndata: { dataset: sum-greater-than, train: 300, test: 200 }\nadapter: { method: full }\ntrain: { epochs: 2, batchSize: 50, lr: 0.01 }\n`,
      { timeoutMs: 120_000 },
    );
    assert.equal(reply.content.status, 'ok', JSON.stringify(reply.content));
  });
  after(async () => {
    await kernel.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  let inline: RunRecord;

  it('a grid sweep inline: every combination once, trials by id, a valid record with the trials, a table and a parallel-coordinates plot', async () => {
    const { reply, iopub } = await kernel.client.execute(sweepCell('grid1', 'inline'), { timeoutMs: 300_000 });
    assert.equal(reply.content.status, 'ok', errorText(iopub));
    [inline] = records(iopub);
    assert.equal(validateRunRecord(inline).valid, true);
    const outcome = inline.outcome as unknown as Outcome;
    assert.deepEqual(outcome.trials.map((t) => t.trialId), ['t000', 't001', 't002', 't003']);
    assert.deepEqual(
      outcome.trials.map((t) => [t.params['adapter.r'], t.params['train.lr']]),
      [
        [1, 0.003],
        [1, 0.03],
        [4, 0.003],
        [4, 0.03],
      ],
    );
    // Each trial's own record: the hyperparameters are in its config, the base model arrived as weights.
    const first = outcome.trials[2].segments[0].record as unknown as { name: string; config: { adapter: { r: number }; train: { lr: number }; model: { from: string; weights: string } } };
    assert.equal(first.name, 'grid1/t002');
    assert.equal(first.config.adapter.r, 4);
    assert.equal(first.config.train.lr, 0.003);
    assert.equal(first.config.model.from, 'base');
    assert.match(first.config.model.weights, /^[0-9a-f]{64}$/, 'the weights are recorded by fingerprint, not as bytes');
    assert.equal(inline.metrics.trials, 4);
    assert.equal(inline.metrics.best, Math.max(...outcome.trials.map((t) => t.value)));
    const mimes = iopub.filter((m) => m.header.msg_type === 'display_data').map((m) => Object.keys(m.content.data as object));
    assert.ok(mimes.some((k) => k.includes('text/html') && !k.includes(RUN_RECORD_MIME)), 'the trials table');
    const plotly = iopub
      .filter((m) => m.header.msg_type === 'display_data')
      .map((m) => (m.content.data as Record<string, { data?: Array<{ type: string }> }>)['application/vnd.plotly.v1+json'])
      .filter(Boolean);
    assert.ok(plotly.some((p) => p!.data?.[0]?.type === 'parcoords'), 'a parallel-coordinates plot');
  });

  it('the same sweep on two local processes gives the same trials, the same numbers and a record that verifies against the inline one', async () => {
    const { reply, iopub } = await kernel.client.execute(sweepCell('grid2', 'local'), { timeoutMs: 300_000 });
    assert.equal(reply.content.status, 'ok', errorText(iopub));
    const [local] = records(iopub);
    const a = inline.outcome as unknown as Outcome;
    const b = local.outcome as unknown as Outcome;
    assert.deepEqual(
      b.trials.map((t) => [t.trialId, t.value]),
      a.trials.map((t) => [t.trialId, t.value]),
    );
    assert.deepEqual(
      b.trials.map((t) => t.segments[0].record.contentHash),
      a.trials.map((t) => t.segments[0].record.contentHash),
      'each trial record is bit-identical in a child process',
    );
    // Only the sweep's name and engine differ; everything computed is equal.
    const diff = compareRecords(inline, local);
    assert.deepEqual(diff.metrics.filter((m) => !m.ok), []);
    assert.deepEqual(diff.curves.filter((c) => !c.ok), []);
    assert.deepEqual(diff.configDiffs.map((d) => d.path), ['/config/engine']);
  });

  it('engine: { redis } sends the same sweep to two `hyperlab worker` processes through a redis-server of its own: the same trials and numbers', { timeout: 240_000 }, async () => {
    const redis = await startRedis();
    const workers = [startCliWorker(redis.url), startCliWorker(redis.url)];
    try {
      const { reply, iopub } = await kernel.client.execute(sweepCell('grid3', `{ redis: ${redis.url} }`), { timeoutMs: 200_000 });
      assert.equal(reply.content.status, 'ok', errorText(iopub));
      const [viaRedis] = records(iopub);
      const a = inline.outcome as unknown as Outcome;
      const b = viaRedis.outcome as unknown as Outcome;
      assert.deepEqual(
        b.trials.map((t) => [t.trialId, t.value, t.segments[0].record.contentHash]),
        a.trials.map((t) => [t.trialId, t.value, t.segments[0].record.contentHash]),
      );
      assert.equal(viaRedis.config.engine, 'redis');
      // Both workers took trials.
      const took = workers.map((w) => w.lines.filter((l) => / started$/.test(l)).length);
      assert.ok(took.every((n) => n > 0), `trials per worker: ${took.join(', ')}`);
    } finally {
      for (const w of workers) w.kill('SIGTERM');
      await Promise.all(workers.map((w) => w.exited));
      await redis.stop();
    }
  });

  it('trials are runs of their own: %compare takes them by <sweep>/<trial>', async () => {
    const { reply, iopub } = await kernel.client.execute('%compare grid1/t000 grid1/t003', { timeoutMs: 60_000 });
    assert.equal(reply.content.status, 'ok', errorText(iopub));
    const text = iopub.map((m) => String((m.content.data as Record<string, unknown> | undefined)?.['text/plain'] ?? '')).join('\n');
    assert.match(text, /grid1\/t000\s+grid1\/t003/);
    assert.match(text, /adapter\.r/);
  });

  it('an interrupt stops every trial: the children are gone, nothing is recorded, the kernel keeps running', { timeout: 120_000 }, async () => {
    const kernelPid = kernel.process.pid!;
    const running = kernel.client.execute(sweepCell('slow', 'local').replace('epochs: 2, batchSize: 50', 'epochs: 100000, batchSize: 50'), { timeoutMs: 100_000 });
    const deadline = Date.now() + 60_000;
    while (trialChildren(kernelPid).length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(trialChildren(kernelPid).length, 2, 'two trials running in child processes');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await kernel.client.request('control', 'interrupt_request', {});
    const { reply, iopub } = await running;
    assert.equal(reply.content.status, 'error');
    assert.equal(reply.content.ename, 'KeyboardInterrupt', errorText(iopub));
    assert.deepEqual(records(iopub), [], 'no sweep recorded');
    const gone = Date.now() + 10_000;
    while (trialChildren(kernelPid).length > 0 && Date.now() < gone) await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual(trialChildren(kernelPid), [], 'every trial process ended');
    const { reply: after } = await kernel.client.execute('2 + 2');
    assert.equal(after.content.status, 'ok');
  });

  it('sweeps %%continual (ASHA over iterations) and %%hypernet (a regression family, objective mse, min): every trial completes', { timeout: 240_000 }, async () => {
    const continual = await kernel.client.execute(
      `%%sweep --as clsweep
magic: continual
base:
  benchmark: { name: split-mnist, nExperiences: 5, train: 100, test: 50 }
  scenario: task
  model: { mlp: [784, 16, 10] }
  strategy: { name: ewc, ewcLambda: 100 }
  train: { iterations: 8, batchSize: 32, evalEvery: 4 }
space:
  strategy.ewcLambda: { loguniform: [1, 10000] }
algorithm: { name: asha, gracePeriod: 4, reductionFactor: 2, maxT: 8 }
budget: { trials: 3 }
engine: inline
`,
      { timeoutMs: 200_000 },
    );
    assert.equal(continual.reply.content.status, 'ok', errorText(continual.iopub));
    const [cl] = records(continual.iopub);
    const clTrials = (cl.outcome as unknown as Outcome).trials;
    assert.ok(clTrials.every((t) => t.value !== undefined && t.segments.every((seg) => seg.record)), 'every continual trial has its metrics and record');
    assert.equal(cl.config.resource, 'train.iterations');
    assert.ok(clTrials.some((t) => t.segments.length === 2), 'ASHA promoted one to 8 iterations');
    // learn: regression must not get learn: continual's defaults (beta, …) from the base's validation.
    const hypernet = await kernel.client.execute(
      `%%sweep --as hnsweep
magic: hypernet
base:
  learn: regression
  regression: { family: sine, tasks: 2, train: 32, test: 16 }
  model: { mlp: [1, 8, 1] }
  hypernetwork: { kind: full, layers: [8], taskEmbSize: 4 }
  train: { iterations: 10, batchSize: 16 }
space:
  train.lr: { loguniform: [0.001, 0.03] }
objective: { metric: mse, mode: min }
algorithm: random
budget: { trials: 2 }
engine: inline
`,
      { timeoutMs: 200_000 },
    );
    assert.equal(hypernet.reply.content.status, 'ok', errorText(hypernet.iopub));
    const [hn] = records(hypernet.iopub);
    const hnTrials = (hn.outcome as unknown as Outcome).trials;
    assert.equal(hn.metrics.failed, 0, JSON.stringify(hnTrials.map((t) => t.segments)));
    assert.equal(hn.metrics.best, Math.min(...hnTrials.map((t) => t.value)));
  });

  it('config errors name the cell line and key and leave the kernel running', async () => {
    const bad = async (cell: string, pattern: RegExp) => {
      const { reply, iopub } = await kernel.client.execute(cell, { timeoutMs: 60_000 });
      assert.equal(reply.content.status, 'error');
      assert.match(errorText(iopub), pattern);
    };
    await bad(sweepCell('e1', 'inline').replace('algorithm: grid', 'algorithm: grd'), /cell line 11: .*algorithm/);
    await bad(sweepCell('e2', 'inline').replace('train.lr: { grid: [0.003, 0.03] }', 'train.lr: { loguniform: [0, 0.03] }'), /cell line 10: .*train\.lr/);
    await bad(sweepCell('e3', 'inline').replace('method: lora, r: 2', 'method: lora, rank: 2'), /cell line 6: .*unknown key "rank"/);
    await bad(sweepCell('e4', 'inline').replace('model: base', 'model: nosuchrun'), /cell line 4: base\.model: no run or variable named "nosuchrun"/);
    const { reply } = await kernel.client.execute('1 + 1');
    assert.equal(reply.content.status, 'ok');
  });

  it("a trial whose config is invalid fails alone, named at the sweep cell's line that set the value", async () => {
    const { reply, iopub } = await kernel.client.execute(sweepCell('bad1', 'inline').replace('adapter.r: { grid: [1, 4] }', 'adapter.r: { grid: [0, 4] }'), { timeoutMs: 120_000 });
    assert.equal(reply.content.status, 'ok', errorText(iopub));
    const out = iopub.filter((m) => m.header.msg_type === 'stream').map((m) => String(m.content.text)).join('');
    assert.match(out, /bad1: trial t000 segment 0 failed: %%adapter: a problem in a sweep trial's config:\n {2}cell line 9 \(space adapter\.r\): adapter\.r must be a positive integer; got number 0\n/);
    assert.match(out, /\nbad1: failed t000: segment 0 failed: the error above\n/);
    assert.doesNotMatch(out, /trial t00[23] segment 0 failed/, 'r = 4 trains');
    const outcome = records(iopub)[0].outcome as unknown as Outcome;
    assert.deepEqual(outcome.trials.map((t) => t.status), ['failed', 'failed', 'completed', 'completed']);
  });

  it('scaling: a power law fitted over the trials: the exponent and CI of ordinary least squares in log space', async () => {
    const { reply, iopub } = await kernel.client.execute(
      sweepCell('fit', 'inline').replace('train.lr: { grid: [0.003, 0.03] }', 'train.lr: { grid: [0.01] }').replace('adapter.r: { grid: [1, 4] }', 'adapter.r: { grid: [1, 2, 4, 8] }') +
        'scaling: { y: trainableParams, x: { r: adapter.r } }\n',
      { timeoutMs: 300_000 },
    );
    assert.equal(reply.content.status, 'ok', errorText(iopub));
    const [record] = records(iopub);
    const outcome = record.outcome as unknown as { trials: Array<{ params: { 'adapter.r': number }; metrics: { trainableParams: number } }> };
    // The slope of ln y on ln r, by hand, from the trials' own metrics (LoRA on 20→16 adds r·36 parameters to the head's 34).
    const xs = outcome.trials.map((t) => Math.log(t.params['adapter.r']));
    const ys = outcome.trials.map((t) => Math.log(t.metrics.trainableParams));
    assert.deepEqual(outcome.trials.map((t) => t.metrics.trainableParams), [1, 2, 4, 8].map((r) => 36 * r + 34));
    const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
    const [mx, my] = [mean(xs), mean(ys)];
    const slope = xs.reduce((a, x, i) => a + (x - mx) * (ys[i] - my), 0) / xs.reduce((a, x) => a + (x - mx) ** 2, 0);
    const exponent = record.metrics['scaling/exponent/r'] as number;
    assert.ok(Math.abs(exponent - slope) < 1e-6, `exponent ${exponent} vs ${slope}`);
    assert.ok((record.metrics['scaling/exponent/r/ciLow'] as number) < exponent && exponent < (record.metrics['scaling/exponent/r/ciHigh'] as number));
    assert.ok((record.outcome as { scaling?: unknown }).scaling, 'the fit is in the record');
    // Loss against compute: a list multiplies its factors (C = 6·N·examples seen).
    const compute = await kernel.client.execute(
      sweepCell('compute', 'inline').replace('train.lr: { grid: [0.003, 0.03] }', 'train.lr: { grid: [0.01] }').replace('adapter.r: { grid: [1, 4] }', 'adapter.r: { grid: [1, 2, 4, 8] }') +
        'scaling: { y: loss, x: { C: [6, trainableParams, steps, 50] } }\n',
      { timeoutMs: 300_000 },
    );
    assert.equal(compute.reply.content.status, 'ok', errorText(compute.iopub));
    const [byCompute] = records(compute.iopub);
    assert.equal(typeof byCompute.metrics['scaling/exponent/C'], 'number');
    const bad = await kernel.client.execute(sweepCell('nox', 'inline') + 'scaling: { y: loss, x: { C: [trainableParams, nosuchkey] } }\n', { timeoutMs: 300_000 });
    assert.match(errorText(bad.iopub), /cell line 14: scaling: \["trainableParams","nosuchkey"\] is not a number in any trial/);
  });
});
