#!/usr/bin/env node
/**
 * DGR+distill in Task-IL: the classifier's step with the replayed batch once and the grouped
 * distillation (what the strategy does when every head has the same width) against one copy of it
 * per earlier head (its fallback for unequal heads, forced here by making `equalHeadWidth` report
 * none). Both forms run interleaved in one process, so they share the machine's state; prints each
 * experience's median classifier step, the classifier's time per experience (the step plus, every
 * step, sampling the previous VAE and scoring the samples with the previous classifier, eagerly),
 * and the VAE's median step.
 *
 * Usage: node scripts/bench/continual/dgr-rows.js [--iterations N] [--rounds N]   (after npm run build)
 */
'use strict';
const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(`--${name}`) ? Number(args[args.indexOf(`--${name}`) + 1]) : dflt);
const iterations = opt('iterations', 100);
const rounds = opt('rounds', 2);
const dist = require('../../../packages/core/dist/continual/strategies/distillation.js');
const loop = require('../../../packages/core/dist/train/loop.js');
const core = require('../../../packages/core/dist/index.js');

const equalHeadWidth = dist.equalHeadWidth;
const train = loop.train;
let results = [];
loop.train = async (options) => {
  const result = await train(options);
  results.push(result);
  return result;
};

(async () => {
  const info = await core.setBackend('auto');
  console.log(`DGR+distill, Task-IL, ${iterations} iterations per task, backend ${info.name}`);
  console.log('| form | classifier median step per experience (ms) | classifier time per experience (s) | VAE median step per experience (ms) | run (s) |');
  console.log('| --- | --- | --- | --- | ---: |');
  for (let r = 0; r < rounds; r++) {
    for (const form of ['grouped', 'per head']) {
      dist.equalHeadWidth = form === 'grouped' ? equalHeadWidth : () => undefined;
      results = [];
      const benchmark = core.splitMnist({ seed: 1, returnTaskId: true });
      const rng = new core.Rng(1);
      const model = core.mlp({ sizes: [784, 400, 400, core.scenarioOutputs(benchmark, 'task')] });
      const params = model.init(rng.fork('init'));
      const started = performance.now();
      await core.runContinual({
        benchmark, scenario: 'task', model, params,
        strategy: { name: 'generative-replay', distill: true, temperature: 2, zDim: 100, vaeHidden: [400, 400] },
        train: { iterations, batchSize: 128, optimizer: 'adam', lr: 0.001, betas: [0.9, 0.999], resetOptimizer: false },
        seed: 1, rng,
      });
      const seconds = (performance.now() - started) / 1000;
      core.disposeParams(params);
      // train() runs alternate: the classifier on an experience, then the VAE on it.
      const classifier = results.filter((_, i) => i % 2 === 0);
      const vae = results.filter((_, i) => i % 2 === 1);
      const ms = (runs) => runs.map((c) => c.timings.msPerStep.toFixed(2)).join(' / ');
      console.log(`| ${form} | ${ms(classifier)} | ${classifier.map((c) => (c.timings.totalMs / 1000).toFixed(2)).join(' / ')} | ${ms(vae)} | ${seconds.toFixed(1)} |`);
    }
  }
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
