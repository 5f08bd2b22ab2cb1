#!/usr/bin/env node
/**
 * `%%sweep`'s engines and algorithms, measured (issue 14). Two parts, each appending one JSON line
 * per finished measurement to --out (a re-run skips what is there, so an interrupted run resumes):
 *
 * 1. Engines: the same 16-trial random sweep (full fine-tuning of an MLP on an MNIST subset) run
 *    in the kernel process one at a time (`inline`, the reference), on 1 and 2 local child
 *    processes, and on 2 `hyperlab worker` processes behind a redis-server started here on a free
 *    loopback port. Wall time, speed-up over one local process, and per-trial overhead = (wall −
 *    the trials' own training time / concurrency) / trials.
 * 2. Algorithms: random search, ASHA (Li et al. 2020) and PBT (Jaderberg et al. 2017) on the same
 *    space and the same budget of training epochs, several seeds: the best test accuracy found,
 *    the epochs actually trained, and the epochs spent before a trial first reached the target.
 *
 * Usage: node bench.js [--quick] [--seeds N] [--first-seed K] [--backend wasm|cpu|node|auto] [--out FILE] [--only engines,algorithms]
 */
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const root = path.resolve(__dirname, '..', '..', '..');
const magics = require(path.join(root, 'packages/magics/dist/index.js'));
const { LocalEngine } = require(path.join(root, 'packages/magics/dist/sweep/local-engine.js'));
const { InlineEngine } = require(path.join(root, 'packages/magics/dist/sweep/inline-engine.js'));
const { RedisEngine } = require(path.join(root, 'packages/magics/dist/sweep/redis-engine.js'));
const { startRedis } = require(path.join(root, 'packages/magics/dist/sweep/redis-testing.js'));
const { parseSearchSpace } = require(path.join(root, 'packages/magics/dist/sweep/space.js'));
const { benchOptions, finishedKeys } = require('../lib/resumable.js');

const { quick, seeds, firstSeed, backend: backendOption, out, only } = benchOptions(process.argv.slice(2), __dirname, 3);
const backend = backendOption === 'auto' ? 'wasm' : backendOption;
const log = (...a) => process.stderr.write(`sweep bench: ${a.join(' ')}\n`);
const objective = { metric: 'accuracy', mode: 'max' };

// Part 1: a fixed amount of work per trial, so the engines differ only in how they run it.
const ENGINE_BASE = {
  model: { mlp: [784, 64, 10] },
  data: { dataset: 'mnist', train: quick ? 300 : 10000, test: 500 },
  adapter: { method: 'full' },
  train: { epochs: quick ? 1 : 3, batchSize: 64, lr: 0.003 },
};
const ENGINE_SPACE = { 'train.lr': { loguniform: [0.0003, 0.03] }, 'model.mlp[1]': { choice: [32, 64, 128] } };
const ENGINE_TRIALS = quick ? 4 : 16;

// Part 2: the same space and budget for every algorithm.
const MAX_T = quick ? 2 : 8;
const ALGO_BASE = {
  model: { mlp: [784, 64, 10] },
  data: { dataset: 'mnist', train: quick ? 300 : 2000, test: 1000 },
  adapter: { method: 'full' },
  train: { epochs: MAX_T, batchSize: 64, lr: 0.003 },
};
const ALGO_SPACE = { 'train.lr': { loguniform: [0.00003, 0.3] }, 'model.mlp[1]': { choice: [16, 32, 64, 128] } };
// The first target for the log; render.js reads the trace for several (0.85, 0.87, 0.89).
const TARGET = quick ? 0.5 : 0.9;
// Budget: 8 full-length trials' worth of epochs (64). Random: 8 trials × 8 epochs; PBT: 8 members × 8
// epochs; ASHA (grace 1, η 2, max 8): 25 configurations cost ≈ 25·1 + 12·1 + 6·2 + 3·4 ≈ 61 epochs.
const ALGORITHMS = [
  { label: 'random', algorithm: 'random', trials: quick ? 2 : 8 },
  { label: 'ASHA', algorithm: { name: 'asha', gracePeriod: 1, reductionFactor: 2, maxT: MAX_T }, trials: quick ? 4 : 25 },
  // PBT perturbs the learning rate only (the width is drawn per member and copied by exploit: a checkpoint fits one shape).
  { label: 'PBT', algorithm: { name: 'pbt', perturbationInterval: 1, maxT: MAX_T, quantileFraction: 0.25, mutate: ['train.lr'] }, trials: quick ? 2 : 8 },
];

function append(record) {
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.appendFileSync(out, `${JSON.stringify(record)}\n`);
}

/** The epochs a sweep trained: each segment's budget less the budget of the checkpoint it resumed from. */
function epochsTrained(outcome) {
  const budgetOf = new Map();
  for (const t of outcome.trials) for (const s of t.segments) budgetOf.set(`${t.trialId}#${s.segment}`, s.budget ?? ALGO_BASE.train.epochs);
  let total = 0;
  for (const t of outcome.trials) {
    for (const s of t.segments) {
      if (s.status !== 'completed') continue;
      const from = s.resumeFrom && !s.checkpointMissing ? budgetOf.get(`${s.resumeFrom.trialId}#${s.resumeFrom.segment}`) ?? 0 : 0;
      total += (s.budget ?? ALGO_BASE.train.epochs) - from;
    }
  }
  return total;
}

function startWorkers(url, n) {
  const bin = path.join(root, 'packages/notebook/bin/hyperlab.js');
  return Array.from({ length: n }, () => {
    const child = spawn(process.execPath, [bin, 'worker', '--redis', url, '--backend', backend], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr.on('data', () => {});
    return child;
  });
}

async function engineRun(label) {
  let engine;
  let redis;
  let workers = [];
  if (label === 'inline') engine = new InlineEngine();
  else if (label === 'local-1') engine = new LocalEngine({ concurrency: 1, backend });
  else if (label === 'local-2') engine = new LocalEngine({ concurrency: 2, backend });
  else if (label === 'redis-2') {
    redis = await startRedis();
    workers = startWorkers(redis.url, 2);
    engine = new RedisEngine({ url: redis.url, concurrency: 2 });
  }
  try {
    const space = parseSearchSpace(ENGINE_SPACE);
    const algorithm = magics.createAlgorithm('random', space, objective, { seed: 1, trials: ENGINE_TRIALS });
    const started = performance.now();
    const outcome = await magics.runSweep({ algorithm, engine, magic: 'adapter', base: ENGINE_BASE, objective, seed: 1, sweepId: `bench-${label}-${Date.now()}` });
    const wallMs = performance.now() - started;
    const trialMs = outcome.trials.map((t) => t.segments[0].record?.timings?.totalMs ?? NaN);
    return { wallMs, trialMs, values: outcome.trials.map((t) => t.value), failed: outcome.trials.filter((t) => t.status !== 'completed').length };
  } finally {
    await engine.close();
    for (const w of workers) w.kill('SIGTERM');
    await Promise.all(workers.map((w) => new Promise((r) => (w.exitCode !== null ? r() : w.once('exit', r)))));
    if (redis) await redis.stop();
  }
}

(async () => {
  const done = finishedKeys(out, (r) => r.key);
  if (only.length === 0 || only.includes('engines')) {
    // Inline trials run in this process: on the same backend as the children and workers.
    const core = require(path.join(root, 'packages/core/dist/index.js'));
    const { backendChosen } = require(path.join(root, 'packages/magics/dist/session.js'));
    const ready = core.setBackend(backend);
    backendChosen(ready.then(() => undefined));
    await ready;
    for (const label of ['inline', 'local-1', 'local-2', 'redis-2']) {
      const key = `engine|${label}`;
      if (done.has(key)) continue;
      log(`engines: ${label} (${ENGINE_TRIALS} trials) …`);
      const r = await engineRun(label);
      const concurrency = label.endsWith('-2') ? 2 : 1;
      const trainSum = r.trialMs.reduce((a, b) => a + b, 0);
      const record = { key, part: 'engines', engine: label, concurrency, trials: ENGINE_TRIALS, quick, backend, wallMs: r.wallMs, trialMs: r.trialMs, overheadMsPerTrial: (r.wallMs - trainSum / concurrency) / ENGINE_TRIALS, failed: r.failed, values: r.values };
      append(record);
      log(`engines: ${label} ${(r.wallMs / 1000).toFixed(1)} s, overhead ${record.overheadMsPerTrial.toFixed(0)} ms/trial`);
    }
  }
  if (only.length === 0 || only.includes('algorithms')) {
    for (let seed = firstSeed; seed < firstSeed + seeds; seed++) {
      for (const a of ALGORITHMS) {
        const key = `algorithm|${a.label}|${seed}`;
        if (done.has(key)) continue;
        log(`algorithms: ${a.label}, seed ${seed} …`);
        const space = parseSearchSpace(ALGO_SPACE);
        const algorithm = magics.createAlgorithm(a.algorithm, space, objective, { seed, trials: a.trials });
        // Finish order matters to ASHA and PBT, so one trial at a time: the comparison is reproducible.
        const engine = new LocalEngine({ concurrency: 1, backend });
        const trace = [];
        let epochs = 0;
        const budgets = new Map();
        const started = performance.now();
        let outcome;
        try {
          outcome = await magics.runSweep({
            algorithm,
            engine,
            magic: 'adapter',
            base: ALGO_BASE,
            objective,
            seed,
            sweepId: `bench-${a.label}-${seed}`,
            resourceKey: 'train.epochs',
            onEvent: (e) => {
              if (e.type === 'trial-start') budgets.set(`${e.trialId}#${e.segment}`, { budget: e.budget ?? MAX_T, from: e.resumeFrom ? budgets.get(`${e.resumeFrom.trialId}#${e.resumeFrom.segment}`)?.budget ?? 0 : 0 });
              if (e.type === 'result') {
                const b = budgets.get(`${e.trialId}#${e.segment}`);
                epochs += b.budget - b.from;
                trace.push({ epochs, value: e.value, best: e.best?.value });
              }
            },
          });
        } finally {
          await engine.close();
        }
        const firstHit = trace.find((t) => t.value !== undefined && t.value >= TARGET);
        const record = {
          key,
          part: 'algorithms',
          algorithm: a.label,
          seed,
          quick,
          backend,
          target: TARGET,
          trials: a.trials,
          best: outcome.best?.value ?? null,
          bestParams: outcome.best?.params ?? null,
          epochs: epochsTrained(outcome),
          epochsToTarget: firstHit ? firstHit.epochs : null,
          segments: outcome.trials.reduce((n, t) => n + t.segments.length, 0),
          decisions: outcome.decisions.filter((d) => d.kind !== 'suggest').length,
          wallMs: performance.now() - started,
          trace,
        };
        append(record);
        log(`algorithms: ${a.label} seed ${seed}: best ${record.best?.toFixed(4)}, ${record.epochs} epochs, target ${TARGET} after ${record.epochsToTarget ?? '—'} epochs`);
      }
    }
  }
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
