// Adapter comparison benchmark, driven by the built library (packages/core/dist). Run through
// run.sh, which builds first and writes the Markdown; this prints one JSON object on stdout and
// progress on stderr.
//
//   node scripts/bench/adapters/bench.js [--quick] [--backend wasm|cpu]
//
// Part 1, MNIST transfer: an MLP 784-256-128-5 pretrained on digits 0–4 (labels 0–4), then adapted
// to digits 5–9 (remapped to 0–4) by each method; every method starts from the same pretrained
// weights, trains the same number of epochs with Adam at the learning rate (from a fixed grid)
// that gives the best accuracy on a validation split held out from the 5–9 training images, and
// is reported on the 5–9 test set.
//
// Part 2, PEFT's multilayer-perceptron LoRA example: MLP 20-2000-2000-2 on "sum of 20 uniforms
// > 10", from a fresh init, LoRA r = 8 on the two hidden linears with the output layer in
// modulesToSave, against full fine-tuning; Adam lr 0.002, batch 64, 30 epochs, 800 train / 200
// eval examples (the notebook's settings).
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..', '..');
const core = require(path.join(root, 'packages', 'core', 'dist', 'index.js'));
const { Rng, mlp, loadMnist, batches, train, adam, evaluate, flatten, saveParams, loadInto, addAdapter, applyBitFit, trainableParameters, adapterMethodNames, sumGreaterThan } = core;

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const backend = argv.includes('--backend') ? argv[argv.indexOf('--backend') + 1] : 'wasm';
const log = (...a) => process.stderr.write(`bench: ${a.join(' ')}\n`);

// ---------------------------------------------------------------------------------------------
// Settings (stated in docs/adapters.md).
const MNIST = {
  sizes: [784, 256, 128, 5],
  pretrainEpochs: quick ? 1 : 3,
  pretrainLr: 1e-3,
  adaptEpochs: quick ? 1 : 3,
  lrGrid: quick ? [3e-3] : [1e-3, 3e-3, 1e-2, 3e-2],
  batchSize: 128,
  valSize: 5000,
  trainLimit: quick ? 4000 : undefined,
};
const PEFT_MLP = { sizes: [20, 2000, 2000, 2], n: 1000, nTrain: 800, lr: 0.002, batchSize: 64, epochs: quick ? 3 : 30, r: 8, seeds: quick ? 1 : 3 };

// The adapter methods, as each is configured here. Every PEFT-style method adapts the two hidden
// linears ('0', '1') and trains the output layer '2' in full (PEFT's modules_to_save), since the
// label meaning changes with the new digits.
const HIDDEN = ['0', '1'];
const HEAD = ['2'];
const ADAPTERS = {
  lora: { label: 'LoRA r=8, α=16', config: { method: 'lora', r: 8, loraAlpha: 16, targetModules: HIDDEN, modulesToSave: HEAD } },
  dora: { label: 'DoRA r=8, α=16', config: { method: 'dora', r: 8, loraAlpha: 16, targetModules: HIDDEN, modulesToSave: HEAD } },
  vera: { label: 'VeRA r=256, d₀=0.1', config: { method: 'vera', r: 256, targetModules: HIDDEN, modulesToSave: HEAD } },
  ia3: { label: '(IA)³ (output scaling)', config: { method: 'ia3', targetModules: HIDDEN, modulesToSave: HEAD } },
};
// Methods run only when the library registers them (added while this bench was written).
const OPTIONAL = {
  bottleneck: [
    { key: 'bottleneck-seq', label: 'Bottleneck, sequential (Pfeiffer), d/16, ReLU', config: { method: 'bottleneck', placement: 'pfeiffer', reductionFactor: 16, targetModules: HIDDEN, modulesToSave: HEAD } },
    { key: 'bottleneck-par', label: 'Bottleneck, parallel (He et al.), d/16, ReLU, s=1', config: { method: 'bottleneck', placement: 'parallel', reductionFactor: 16, targetModules: HIDDEN, modulesToSave: HEAD } },
  ],
};

const OPTIONAL_BY_KEY = Object.fromEntries(Object.values(OPTIONAL).flat().map((o) => [o.key, o]));

// ---------------------------------------------------------------------------------------------

function freezeAllBut(params, keep) {
  for (const [p, v] of flatten(params)) v.trainable = keep(p);
}

async function fit(model, params, data, { epochs, lr, batchSize, rng }) {
  const optimizer = adam({ lr });
  const shuffle = rng.fork('shuffle');
  const t0 = performance.now();
  const result = await train({ model, params, loss: 'cross-entropy', epochs, optimizer, rng, data: () => batches(data, { batchSize, shuffle: true, rng: shuffle }) });
  const seconds = (performance.now() - t0) / 1000;
  optimizer.dispose();
  return { seconds, steps: result.steps, lastLoss: result.history.loss?.at?.(-1) };
}

async function accuracy(model, params, data) {
  const r = await evaluate(model, params, batches(data, { batchSize: 1000 }), { acc: 'accuracy', loss: 'cross-entropy' });
  return r;
}

function disposeParams(params) {
  for (const v of flatten(params).values()) if (!v.isDisposed) v.dispose();
}

/** Sets up `method` on a fresh model with the pretrained weights; returns { model, params, label }. */
function prepare(method, pretrainedFile) {
  const model = mlp({ sizes: MNIST.sizes });
  const params = model.init(new Rng('bench:init'));
  loadInto(params, pretrainedFile);
  let label;
  if (method === 'full') {
    label = 'Full fine-tuning';
    freezeAllBut(params, () => true);
  } else if (method === 'head') {
    label = 'Head only (layer 2)';
    freezeAllBut(params, (p) => p.startsWith('2.'));
  } else if (method === 'bitfit') {
    label = 'BitFit (all biases) + head';
    applyBitFit(model, params);
    for (const [p, v] of flatten(params)) if (p.startsWith('2.')) v.trainable = true;
  } else if (ADAPTERS[method]) {
    label = ADAPTERS[method].label;
    addAdapter(model, params, ADAPTERS[method].config, 'default', { rng: new Rng(`bench:${method}`) });
  } else if (OPTIONAL_BY_KEY[method]) {
    label = OPTIONAL_BY_KEY[method].label;
    addAdapter(model, params, OPTIONAL_BY_KEY[method].config, 'default', { rng: new Rng(`bench:${method}`) });
  } else {
    // A method registered that this script does not know (prompt / prefix tuning, …): its
    // defaults, same targets; methods that need a transformer block fail here and are reported.
    label = `${method} (defaults)`;
    addAdapter(model, params, { method, targetModules: HIDDEN, modulesToSave: HEAD }, 'default', { rng: new Rng(`bench:${method}`) });
  }
  return { model, params, label };
}

async function mnistTransfer(tmp) {
  const source = loadMnist({ split: 'train', normalize: 'standard', digits: [0, 1, 2, 3, 4], remapLabels: true, limit: MNIST.trainLimit });
  const sourceTest = loadMnist({ split: 'test', normalize: 'standard', digits: [0, 1, 2, 3, 4], remapLabels: true });
  const targetAll = loadMnist({ split: 'train', normalize: 'standard', digits: [5, 6, 7, 8, 9], remapLabels: true, limit: MNIST.trainLimit });
  const targetTest = loadMnist({ split: 'test', normalize: 'standard', digits: [5, 6, 7, 8, 9], remapLabels: true });
  const valSize = Math.min(MNIST.valSize, Math.floor(targetAll.size / 5));
  const [targetVal, targetTrain] = targetAll.split(valSize / targetAll.size, new Rng('bench:val-split'));
  log(`MNIST: pretrain ${source.size}, adapt train ${targetTrain.size} / val ${targetVal.size} / test ${targetTest.size}`);

  // Pretrain on 0–4.
  const model = mlp({ sizes: MNIST.sizes });
  const params = model.init(new Rng('bench:init'));
  const pre = await fit(model, params, source, { epochs: MNIST.pretrainEpochs, lr: MNIST.pretrainLr, batchSize: MNIST.batchSize, rng: new Rng('bench:pretrain') });
  const preSource = await accuracy(model, params, sourceTest);
  const preTarget = await accuracy(model, params, targetTest);
  log(`pretrained in ${pre.seconds.toFixed(1)} s: test acc on 0–4 ${preSource.acc.toFixed(4)}, on 5–9 before adapting ${preTarget.acc.toFixed(4)}`);
  const pretrainedFile = path.join(tmp, 'pretrained.safetensors');
  saveParams(params, pretrainedFile);
  disposeParams(params);

  const known = ['lora', 'dora', 'vera', 'ia3'];
  const extra = adapterMethodNames()
    .filter((m) => !known.includes(m))
    .flatMap((m) => (OPTIONAL[m] ? OPTIONAL[m].map((o) => o.key) : [m]));
  const methods = ['full', 'head', 'bitfit', ...known, ...extra];
  const rows = [];
  for (const method of methods) {
    const tries = [];
    let failed;
    for (const lr of MNIST.lrGrid) {
      let setup;
      try {
        setup = prepare(method, pretrainedFile);
      } catch (error) {
        failed = error.message;
        break;
      }
      const { model: m, params: p, label } = setup;
      const counts = trainableParameters(p);
      const run = await fit(m, p, targetTrain, { epochs: MNIST.adaptEpochs, lr, batchSize: MNIST.batchSize, rng: new Rng(`bench:adapt:${method}`) });
      const val = await accuracy(m, p, targetVal);
      const test = await accuracy(m, p, targetTest);
      tries.push({ lr, label, trainable: counts.trainable, all: counts.all, percent: counts.percent, seconds: run.seconds, steps: run.steps, valAcc: val.acc, testAcc: test.acc, testLoss: test.loss });
      log(`${method} lr ${lr}: val ${val.acc.toFixed(4)} test ${test.acc.toFixed(4)} (${run.seconds.toFixed(1)} s, ${counts.trainable} trainable)`);
      disposeParams(p);
    }
    if (failed) {
      log(`${method}: skipped (${failed})`);
      rows.push({ method, failed });
      continue;
    }
    const best = tries.reduce((a, b) => (b.valAcc > a.valAcc ? b : a));
    rows.push({ method, ...best, grid: tries.map((t) => ({ lr: t.lr, valAcc: t.valAcc, testAcc: t.testAcc, seconds: t.seconds })) });
  }
  return {
    settings: MNIST,
    sizes: { pretrain: source.size, adaptTrain: targetTrain.size, adaptVal: targetVal.size, test: targetTest.size, sourceTest: sourceTest.size },
    pretrain: { seconds: pre.seconds, testAcc04: preSource.acc, testAcc59Before: preTarget.acc },
    rows,
  };
}

// PEFT's example reports the eval loss as the mean of the per-batch mean losses (200 examples in
// batches of 64: 64, 64, 64, 8); computed the same way here.
async function evalLossLikePeft(model, params, data, batchSize) {
  let sum = 0;
  let count = 0;
  for (const batch of batches(data, { batchSize })) {
    const r = await evaluate(model, params, [batch], { loss: 'cross-entropy', acc: 'accuracy' });
    sum += r.loss;
    count++;
  }
  const all = await evaluate(model, params, batches(data, { batchSize: 1000 }), { loss: 'cross-entropy', acc: 'accuracy' });
  return { batchMeanLoss: sum / count, loss: all.loss, acc: all.acc };
}

async function peftMlpExample() {
  const { sizes, n, nTrain, lr, batchSize, epochs, r, seeds } = PEFT_MLP;
  const rows = [];
  for (let seed = 0; seed < seeds; seed++) {
  // Each seed: its own data and its own init, shared by the two runs of that seed.
  const all = sumGreaterThan({ n, rng: new Rng(`bench:sum>10:${seed}`) });
  const trainSet = all.subset(Array.from({ length: nTrain }, (_, i) => i), 'sum>10/train');
  const evalSet = all.subset(Array.from({ length: n - nTrain }, (_, i) => nTrain + i), 'sum>10/eval');
  for (const method of ['full', 'lora']) {
    const model = mlp({ sizes });
    const params = model.init(new Rng(`bench:mlp-init:${seed}`));
    if (method === 'lora') addAdapter(model, params, { method: 'lora', r, targetModules: ['0', '1'], modulesToSave: ['2'] }, 'default', { rng: new Rng(`bench:mlp-lora:${seed}`) });
    const counts = trainableParameters(params);
    const optimizer = adam({ lr });
    const rng = new Rng(`bench:mlp:${method}:${seed}`);
    const shuffle = rng.fork('shuffle');
    const curve = [];
    const t0 = performance.now();
    let evalSeconds = 0;
    await train({
      model,
      params,
      loss: 'cross-entropy',
      epochs,
      optimizer,
      rng,
      data: () => batches(trainSet, { batchSize, shuffle: true, rng: shuffle }),
      onProgress: () => {},
      evaluate: {
        every: 'epoch',
        fn: async () => {
          const e0 = performance.now();
          const e = await evalLossLikePeft(model, params, evalSet, batchSize);
          evalSeconds += (performance.now() - e0) / 1000;
          curve.push(e.batchMeanLoss);
          return e;
        },
      },
    });
    const seconds = (performance.now() - t0) / 1000 - evalSeconds;
    optimizer.dispose();
    const final = await evalLossLikePeft(model, params, evalSet, batchSize);
    log(`PEFT MLP seed ${seed} ${method}: eval loss ${final.batchMeanLoss.toFixed(4)} (min ${Math.min(...curve).toFixed(4)}), acc ${final.acc.toFixed(4)}, ${seconds.toFixed(1)} s, ${counts.trainable} trainable`);
    rows.push({ seed, method, trainable: counts.trainable, all: counts.all, percent: counts.percent, seconds, final, curve, minLoss: Math.min(...curve), minEpoch: curve.indexOf(Math.min(...curve)) });
    disposeParams(params);
  }
  }
  return { settings: PEFT_MLP, rows };
}

async function main() {
  const info = await core.setBackend(backend);
  log(`backend ${info.name}${info.simd !== undefined ? ` (simd ${info.simd})` : ''}`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hyperlab-adapter-bench-'));
  try {
    const t0 = performance.now();
    const mnist = await mnistTransfer(tmp);
    const peftMlp = await peftMlpExample();
    const out = { backend: info, quick, methodsRegistered: adapterMethodNames(), mnist, peftMlp, totalSeconds: (performance.now() - t0) / 1000 };
    process.stdout.write(`${JSON.stringify(out, null, 1)}\n`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((error) => {
  process.stderr.write(`${error.stack ?? error.message}\n`);
  process.exit(1);
});
