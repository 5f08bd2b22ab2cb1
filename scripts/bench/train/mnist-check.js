#!/usr/bin/env node
// The MNIST training check (packages/core/src/mnist-training.test.ts: MLP 784-100-10, Adam lr 2e-3,
// batch 128, 5 epochs on the 60,000 training images, seed 20261127) timed on WASM, on native with
// eager steps and on native with compiled steps (backend/graph-step.ts), one process each, in
// turn, so the ratios come from the same minutes. Prints Markdown.
// Usage: node scripts/bench/train/mnist-check.js [--epochs N] [--rounds N]   (after npx tsc -b packages/core)
'use strict';
const { execFileSync } = require('node:child_process');
const path = require('node:path');
const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : dflt);
const epochs = Number(opt('epochs', '5'));
const rounds = Number(opt('rounds', '1'));

if (process.env.MNIST_CHECK_CHILD) {
  const core = require(path.join(__dirname, '../../../packages/core/dist/index.js'));
  (async () => {
    const [backend, compile] = process.env.MNIST_CHECK_CHILD.split(':');
    await core.setBackend(backend);
    const rng = new core.Rng(20261127);
    const trainSet = core.loadMnist({ split: 'train', normalize: 'standard', flatten: true });
    const testSet = core.loadMnist({ split: 'test', normalize: 'standard', flatten: true });
    const model = core.mlp({ sizes: [784, 100, 10] });
    const params = model.init(rng.fork('init'));
    const optimizer = core.adam({ lr: 2e-3 });
    const shuffle = rng.fork('shuffle');
    const started = performance.now();
    const result = await core.train({
      model, params, loss: 'cross-entropy', epochs, optimizer, rng, compile: compile === 'compiled',
      data: () => core.batches(trainSet, { batchSize: 128, shuffle: true, rng: shuffle }),
    });
    const seconds = (performance.now() - started) / 1000;
    const metrics = await core.evaluate(model, params, core.batches(testSet, { batchSize: 1000, shuffle: false }), ['accuracy']);
    process.stdout.write(JSON.stringify({ seconds, msPerStep: result.timings.msPerStep, steps: result.steps, accuracy: metrics.accuracy, compiled: result.compiled ?? null }));
  })();
  return;
}

// The last variant pins TensorFlow to one thread (intra- and inter-op), as WASM is: per-core speed.
const ONE_THREAD = { TF_NUM_INTRAOP_THREADS: '1', TF_NUM_INTEROP_THREADS: '1' };
const variants = [
  ['wasm', 'eager', 'WASM (1 thread)'],
  ['node', 'eager', 'native, eager steps'],
  ['node', 'compiled', 'native, compiled steps'],
  ['node', 'compiled', 'native, compiled steps, 1 thread', ONE_THREAD],
];
const runs = new Map(variants.map((v) => [v[2], []]));
const load = () => require('node:fs').readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const loadBefore = load();
for (let r = 0; r < rounds; r++) {
  for (const [backend, compile, label, env] of variants) {
    const out = execFileSync(process.execPath, [__filename, '--epochs', String(epochs)], { env: { ...process.env, ...env, MNIST_CHECK_CHILD: `${backend}:${compile}`, TF_CPP_MIN_LOG_LEVEL: '2' }, encoding: 'utf8' });
    const res = JSON.parse(out.slice(out.indexOf('{')));
    runs.get(label).push(res);
    process.stderr.write(`${label}: ${res.seconds.toFixed(1)} s, ${res.msPerStep.toFixed(2)} ms/step, ${(res.accuracy * 100).toFixed(2)} %\n`);
  }
}
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const wasm = median(runs.get('WASM (1 thread)').map((r) => r.seconds));
console.log(`MNIST check, ${epochs} epochs, ${rounds} round(s) (median), load average ${loadBefore} before and ${load()} after:\n`);
console.log('| backend | training wall time | ms/step | test accuracy | speed-up over WASM |');
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const [, , label] of variants) {
  const rs = runs.get(label);
  const s = median(rs.map((r) => r.seconds));
  console.log(`| ${label} | ${s.toFixed(1)} s | ${median(rs.map((r) => r.msPerStep)).toFixed(2)} | ${(rs[0].accuracy * 100).toFixed(2)} % | ${(wasm / s).toFixed(2)}× |`);
}
