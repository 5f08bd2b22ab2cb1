#!/usr/bin/env node
/**
 * Van de Ven & Tolias (2019), "Three scenarios for continual learning" (arXiv:1904.07734),
 * Split MNIST protocol, on HyperLab's core: 5 experiences of 2 digits (class order drawn per
 * seed), an MLP 784-400-400-out with ReLU, Adam (lr 0.001, betas 0.9/0.999, not reset between
 * tasks: their default `--optimizer adam`), batch 128, 2000 iterations per task, pixels in [0, 1];
 * their per-scenario hyperparameters (GMvandeVen/continual-learning @ a02db26, `param_values.py`).
 * Appends one JSON line per (strategy, scenario, seed) to --out as it goes, and skips the ones
 * already there, so an interrupted run resumes.
 *
 * Usage: node bench.js [--quick] [--seeds N] [--first-seed K] [--backend auto|node|wasm|cpu] [--out FILE] [--only a,b] [--scenarios task,domain,class]
 */
const fs = require('node:fs');
const path = require('node:path');
const core = require('../../../packages/core/dist/index.js');

const { benchOptions, finishedKeys } = require('../lib/resumable.js');

const { quick, seeds, firstSeed, backend, out, only } = benchOptions(process.argv.slice(2), __dirname, 5);

const ITERATIONS = quick ? 30 : 2000;
const argv = process.argv.slice(2);
// --scenarios task,domain,class (default all three)
const SCENARIOS = argv.includes('--scenarios') ? argv[argv.indexOf('--scenarios') + 1].split(',') : ['task', 'domain', 'class'];
// param_values.py (a02db26): λ for EWC, λ/γ for online EWC, c for SI, per scenario.
const EWC_LAMBDA = { task: 1e7, domain: 1e6, class: 1e8 };
const ONLINE = { task: [1e8, 0.8], domain: [1e8, 0.7], class: [1e9, 0.8] };
const SI_C = { task: 50, domain: 500, class: 0.5 };
const STRATEGIES = [
  { label: 'None', config: () => ({ name: 'naive' }) },
  { label: 'EWC', config: (s) => ({ name: 'ewc', ewcLambda: EWC_LAMBDA[s], ...(quick ? { fisherSamples: 50 } : {}) }) },
  { label: 'Online EWC', config: (s) => ({ name: 'online-ewc', ewcLambda: ONLINE[s][0], decayFactor: ONLINE[s][1], ...(quick ? { fisherSamples: 50 } : {}) }) },
  { label: 'SI', config: (s) => ({ name: 'si', siLambda: SI_C[s], eps: 0.1 }) },
  { label: 'LwF', config: () => ({ name: 'lwf', temperature: 2 }) },
  { label: 'Replay (1000)', config: () => ({ name: 'replay', memSize: 1000, storagePolicy: 'class-balanced' }) },
  { label: 'DGR+distill', config: () => ({ name: 'generative-replay', distill: true, temperature: 2, zDim: 100, vaeHidden: [400, 400] }) },
  // Not part of the table: LwF with the distillation term averaged over the student's units (the
  // reference code's `loss_fn_kd` of April 2019, 86802a8, before 26f00db summed over them), to
  // measure whether that version explains the gap to the published LwF row. Run with --only.
  { label: 'LwF (KD mean)', extra: true, config: () => ({ name: 'lwf', temperature: 2, kdReduction: 'mean' }) },
].filter((s) => (only.length === 0 && !s.extra) || only.includes(s.label) || (!s.extra && only.includes(s.config('task').name)));

const done = () => finishedKeys(out, (r) => `${r.strategy}|${r.scenario}|${r.seed}`);

(async () => {
  const info = await core.setBackend(backend);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const finished = done();
  const benchmarkOptions = quick ? { train: 500, test: 300 } : {};
  for (let seed = firstSeed; seed < firstSeed + seeds; seed++) {
    const benchmark = core.splitMnist({ seed, returnTaskId: true, ...benchmarkOptions });
    for (const scenario of SCENARIOS) {
      for (const strategy of STRATEGIES) {
        const key = `${strategy.label}|${scenario}|${seed}`;
        if (finished.has(key)) continue;
        const rng = new core.Rng(seed);
        const model = core.mlp({ sizes: [784, 400, 400, core.scenarioOutputs(benchmark, scenario)] });
        const params = model.init(rng.fork('init'));
        const started = Date.now();
        const result = await core.runContinual({
          benchmark,
          scenario,
          model,
          params,
          strategy: strategy.config(scenario),
          train: { iterations: ITERATIONS, batchSize: 128, optimizer: 'adam', lr: 0.001, betas: [0.9, 0.999], resetOptimizer: false },
          seed,
          rng,
        });
        core.disposeParams(params);
        const record = {
          strategy: strategy.label,
          scenario,
          seed,
          quick,
          iterations: ITERATIONS,
          backend: info.name,
          acc: result.metrics.acc,
          metrics: { acc: result.metrics.acc, bwt: result.metrics.bwt, fwt: result.metrics.fwt, forgetting: result.metrics.forgetting },
          matrix: result.matrix,
          randomInit: result.randomInit,
          config: result.strategy,
          benchmark: { classOrder: benchmark.classOrder, ...benchmarkOptions },
          wallSeconds: (Date.now() - started) / 1000,
          msPerStep: result.timings.msPerStep,
        };
        fs.appendFileSync(out, `${JSON.stringify(record)}\n`);
        process.stderr.write(`seed ${seed} ${scenario.padEnd(6)} ${strategy.label.padEnd(14)} ACC ${(100 * record.acc).toFixed(2)}%  ${record.wallSeconds.toFixed(1)} s\n`);
      }
    }
  }
  process.stderr.write(`results in ${out}\n`);
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
