#!/usr/bin/env node
/**
 * Why the native backend cannot be 3× faster than WASM on small models: the cost of one native
 * call, measured, times the calls a step makes, against the target.
 *
 * In one process: (1) the floor of one TensorFlow eager call through tfjs-node's addon (a scalar
 * AddV2 straight through the backend's executeSingleOutput, no tfjs engine), (2) the same op
 * through tfjs (`tf.add`: engine + kernel + addon), (3) the same op on WASM through tfjs; then the
 * MNIST training check's step (MLP 784-100-10, batch 128, Adam, `train()`) on native and WASM, with
 * the TensorFlow calls per native step counted. Prints one Markdown table.
 * Needs the native backend (scripts/setup-native.sh) and a build (npx tsc -b packages/core).
 *
 * Usage: node scripts/bench/train/call-floor.js [--steps N]
 */
const core = require('../../../packages/core/dist/index.js');
const tf = require('@tensorflow/tfjs-core');

const argSteps = process.argv.indexOf('--steps');
const steps = argSteps > 0 ? Number(process.argv[argSteps + 1]) : 200;

/** Median µs per call of `f` over `rounds` rounds of `n` calls, after a warm-up. */
function perCall(f, n = 5000, rounds = 7) {
  for (let i = 0; i < n; i++) f();
  const samples = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) f();
    samples.push(Number(process.hrtime.bigint() - t0) / 1e3 / n);
  }
  return samples.sort((a, b) => a - b)[rounds >> 1];
}

async function stepMs(backend, counts) {
  await core.setBackend(backend);
  const model = core.mlp({ sizes: [784, 100, 10] });
  const params = model.init(new core.Rng(1).fork('init'));
  const data = core.loadMnist({ split: 'train', limit: 128 * steps });
  if (counts) counts.clear();
  const result = await core.train({ model, params, loss: 'cross-entropy', data: () => core.batches(data, { batchSize: 128 }), epochs: 1, optimizer: core.adam({ lr: 0.002 }), rng: new core.Rng(3) });
  core.disposeParams(params);
  return { msPerStep: result.timings.msPerStep, steps: result.steps };
}

(async () => {
  const info = await core.setBackend('node');
  if (info.name !== 'node') throw new Error(`needs the native backend, got ${info.name}`);
  const be = tf.backend();
  const T = [{ name: 'T', type: be.binding.TF_ATTR_TYPE, value: be.binding.TF_FLOAT }];
  const s = tf.scalar(1);
  const direct = perCall(() => be.executeSingleOutput('AddV2', T, [s, s]).dispose()); // returns an engine-tracked Tensor
  const viaTfjsNative = perCall(() => tf.add(s, s).dispose());

  const counts = new Map();
  for (const fn of ['executeSingleOutput', 'executeMultipleOutputs']) {
    const original = be[fn].bind(be);
    be[fn] = (name, ...rest) => {
      counts.set(name, (counts.get(name) || 0) + 1);
      return original(name, ...rest);
    };
  }
  const native = await stepMs('node', counts);
  const calls = [...counts.values()].reduce((a, c) => a + c, 0) / native.steps;

  await core.setBackend('wasm');
  const w = tf.scalar(1);
  const viaTfjsWasm = perCall(() => tf.add(w, w).dispose());
  const wasm = await stepMs('wasm');

  const load = require('node:os').loadavg().map((x) => x.toFixed(2)).join(' ');
  const floor = (calls * direct) / 1000;
  const engineFloor = (calls * viaTfjsNative) / 1000;
  console.log(`Run ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, load average ${load}, ${steps} steps per backend.\n`);
  console.log('| quantity | value |');
  console.log('| --- | ---: |');
  console.log(`| one TensorFlow eager call, scalar AddV2, straight through tfjs-node's addon | ${direct.toFixed(1)} µs |`);
  console.log(`| the same through tfjs (\`tf.add\` on native: engine, kernel, addon) | ${viaTfjsNative.toFixed(1)} µs |`);
  console.log(`| \`tf.add\` of two scalars on WASM | ${viaTfjsWasm.toFixed(1)} µs |`);
  console.log(`| TensorFlow calls per step of the MNIST check (784-100-10, batch 128, Adam) | ${calls.toFixed(0)} |`);
  console.log(`| measured ms/step, native | ${native.msPerStep.toFixed(2)} |`);
  console.log(`| measured ms/step, WASM | ${wasm.msPerStep.toFixed(2)} |`);
  console.log(`| target for native (WASM / 3) | ${(wasm.msPerStep / 3).toFixed(2)} |`);
  console.log(`| floor: calls × addon call (no compute, no tfjs) | ${floor.toFixed(2)} |`);
  console.log(`| floor: calls × tfjs call on native (no compute) | ${engineFloor.toFixed(2)} |`);
})();
