#!/usr/bin/env node
/**
 * Von Oswald et al. (2020), "Continual learning with hypernetworks" (ICLR, arXiv:1906.00695),
 * Split MNIST, on HyperLab's core: the `hnet` strategy with hypercl's Split MNIST defaults
 * (chrhenning/hypercl `mnist/train_args_default.py`: main net MLP 400,400, Adam lr 0.001 for the
 * hypernetwork and the embeddings, n_iter 2000, batch 128; chunked hypernetwork 10,10 relu, chunk
 * 42000, task embedding 96, chunk embedding 96, beta 0.01 — without their look-ahead) in Task-IL
 * and Class-IL (HNET+ENT: entropy task inference), and the same streams under EWC and SI with van
 * de Ven & Tolias's (2019) per-scenario strengths. Appends one JSON line per (method, scenario,
 * seed) to --out and skips the ones already there, so an interrupted run resumes.
 *
 * Usage: node bench.js [--quick] [--seeds N] [--first-seed K] [--backend auto|node|wasm|cpu] [--out FILE] [--only HNET,EWC,SI]
 */
const fs = require('node:fs');
const path = require('node:path');
const core = require('../../../packages/core/dist/index.js');

const { benchOptions, finishedKeys } = require('../lib/resumable.js');

const { quick, seeds, firstSeed, backend, out, only } = benchOptions(process.argv.slice(2), __dirname, 3);

const ITERATIONS = quick ? 30 : 2000;
const SCENARIOS = ['task', 'class'];
// hypercl mnist/train_args_default.py (Split MNIST): the classifier hypernetwork.
const HNET = { name: 'hnet', hnetLayers: [10, 10], hnetActivation: 'relu', chunkSize: 42000, chunkEmbSize: 96, taskEmbSize: 96, beta: 0.01, mip: false };
// van de Ven & Tolias param_values.py (a02db26), as scripts/bench/continual.
const EWC_LAMBDA = { task: 1e7, class: 1e8 };
const SI_C = { task: 50, class: 0.5 };
const METHODS = [
  { label: 'HNET', config: () => HNET },
  { label: 'EWC', config: (s) => ({ name: 'ewc', ewcLambda: EWC_LAMBDA[s], ...(quick ? { fisherSamples: 50 } : {}) }) },
  { label: 'SI', config: (s) => ({ name: 'si', siLambda: SI_C[s], eps: 0.1 }) },
].filter((m) => only.length === 0 || only.includes(m.label));

const done = () => finishedKeys(out, (r) => `${r.method}|${r.scenario}|${r.seed}`);

(async () => {
  const info = await core.setBackend(backend);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const finished = done();
  const benchmarkOptions = quick ? { train: 500, test: 300 } : {};
  for (let seed = firstSeed; seed < firstSeed + seeds; seed++) {
    const benchmark = core.splitMnist({ seed, returnTaskId: true, ...benchmarkOptions });
    for (const scenario of SCENARIOS) {
      for (const method of METHODS) {
        const key = `${method.label}|${scenario}|${seed}`;
        if (finished.has(key)) continue;
        const rng = new core.Rng(seed);
        const model = core.mlp({ sizes: [784, 400, 400, core.scenarioOutputs(benchmark, scenario)] });
        const params = model.init(rng.fork('init'));
        const config = method.config(scenario);
        const count = config.name === 'hnet' ? core.chunkedHmlp({ target: model, targetParams: params, condInSize: config.taskEmbSize, layers: config.hnetLayers, chunkSize: config.chunkSize, chunkEmbSize: config.chunkEmbSize, numCondEmbs: benchmark.experiences.length }).count() : undefined;
        const started = Date.now();
        const result = await core.runContinual({
          benchmark,
          scenario,
          model,
          params,
          strategy: config,
          train: { iterations: ITERATIONS, batchSize: 128, optimizer: 'adam', lr: 0.001, betas: [0.9, 0.999], resetOptimizer: false },
          seed,
          rng,
        });
        core.disposeParams(params);
        const record = {
          method: method.label,
          scenario,
          seed,
          quick,
          iterations: ITERATIONS,
          backend: info.name,
          acc: result.metrics.acc,
          metrics: { acc: result.metrics.acc, bwt: result.metrics.bwt, fwt: result.metrics.fwt, forgetting: result.metrics.forgetting },
          matrix: result.matrix,
          config: result.strategy,
          ...(count ? { count } : {}),
          benchmark: { classOrder: benchmark.classOrder, ...benchmarkOptions },
          wallSeconds: (Date.now() - started) / 1000,
          msPerStep: result.timings.msPerStep,
        };
        fs.appendFileSync(out, `${JSON.stringify(record)}\n`);
        process.stderr.write(`seed ${seed} ${scenario.padEnd(5)} ${method.label.padEnd(5)} ACC ${(100 * record.acc).toFixed(2)}%  ${record.wallSeconds.toFixed(1)} s (${record.msPerStep.toFixed(1)} ms/step)\n`);
      }
    }
  }
  process.stderr.write(`results in ${out}\n`);
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
