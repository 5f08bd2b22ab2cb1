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
const { Rng, mlp, loadMnist, batches, train, adam, evaluate, flatten, saveParams, loadInto, addAdapter, applyBitFit, trainableParameters, adapterMethodNames, sumGreaterThan, wholeModelMethodNames, applyWholeModelMethod, adapterTrainingHooks, combineTrainingHooks, numBatches } = core;

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
// Methods run only when the library registers them (added while this bench was written). Rank
// schedules (AdaLoRA, IncreLoRA, TriAdaptLoRA) span the run: tinit/tfinal are 10 % of its steps,
// an update every 1 %; `totalStep` is filled in from the run's length.
const OPTIONAL = {
  bottleneck: [
    { key: 'bottleneck-seq', label: 'Bottleneck, sequential (Pfeiffer), d/16, ReLU', config: { method: 'bottleneck', placement: 'pfeiffer', reductionFactor: 16, targetModules: HIDDEN, modulesToSave: HEAD } },
    { key: 'bottleneck-par', label: 'Bottleneck, parallel (He et al.), d/16, ReLU, s=1', config: { method: 'bottleneck', placement: 'parallel', reductionFactor: 16, targetModules: HIDDEN, modulesToSave: HEAD } },
  ],
  parallel_adapter: [{ key: 'parallel_adapter', label: 'Scaled parallel adapter (He et al. 2022), d/16, s=4', config: { method: 'parallel_adapter', reductionFactor: 16, targetModules: HIDDEN, modulesToSave: HEAD } }],
  adalora: [{ key: 'adalora', label: 'AdaLoRA r 12 → 8 (budget schedule)', schedule: true, config: { method: 'adalora', initR: 12, targetR: 8, targetModules: HIDDEN, modulesToSave: HEAD } }],
  increlora: [{ key: 'increlora', label: 'IncreLoRA r 2 → 8 (grown by importance)', schedule: true, config: { method: 'increlora', initR: 2, targetR: 8, targetModules: HIDDEN, modulesToSave: HEAD } }],
  triadaptlora: [{ key: 'triadaptlora', label: 'TriAdaptLoRA r 2 → 8 (threshold growth)', schedule: true, config: { method: 'triadaptlora', initR: 2, targetR: 8, targetModules: HIDDEN, modulesToSave: HEAD } }],
  nola: [{ key: 'nola', label: 'NOLA r=8, 1024 + 1024 bases', config: { method: 'nola', r: 8, targetModules: HIDDEN, modulesToSave: HEAD } }],
  randlora: [{ key: 'randlora', label: 'RandLoRA r=32 (dense bases)', config: { method: 'randlora', r: 32, targetModules: HIDDEN, modulesToSave: HEAD } }],
  flora: [{ key: 'flora', label: 'FLoRA r=8 (Tucker core)', config: { method: 'flora', r: 8, targetModules: HIDDEN, modulesToSave: HEAD } }],
  mtlora: [{ key: 'mtlora', label: 'MTLoRA (one task: TA + TS LoRA)', config: { method: 'mtlora', tasks: ['5-9'], targetModules: HIDDEN, modulesToSave: HEAD } }],
  // Whole-model methods (no injected layers): `applyWholeModelMethod`, with their training hooks.
  hft: [{ key: 'hft', label: 'HFT (half of the matrices per round, a round per epoch)', whole: true, config: { method: 'hft', ratio: 0.5 } }],
  'sparse-ft': [
    { key: 'sparse-ft-random', label: 'Sparse FT, 1 % random entries + head', whole: true, config: { method: 'sparse-ft', density: 0.01, selection: 'random', targetModules: HIDDEN, modulesToSave: HEAD } },
    { key: 'sparse-ft-magnitude', label: 'Sparse FT, 1 % largest entries + head', whole: true, config: { method: 'sparse-ft', density: 0.01, selection: 'magnitude', targetModules: HIDDEN, modulesToSave: HEAD } },
  ],
  spiel: [{ key: 'spiel', label: 'SpIEL-AG, 1 % entries regrown + head', whole: true, config: { method: 'spiel', density: 0.01, targetModules: HIDDEN, modulesToSave: HEAD } }],
  // A subspace step costs two Fastfood transforms of 2^18 entries (~0.4 s on WASM), so only the two largest rates.
  intrinsic: [{ key: 'intrinsic', label: 'Intrinsic subspace d=1000 (Fastfood), whole model', whole: true, lrGrid: quick ? undefined : [1e-2, 3e-2], config: { method: 'intrinsic', dim: 1000 } }],
  // Not on this task: MAM needs attention layers for its prefix, aTLAS task vectors of earlier runs.
  mam: [],
  atlas: [],
};
// CorDA is LoRA with another initialisation, from the inputs' covariance on calibration data.
const CORDA = [
  { key: 'corda-ipm', label: 'CorDA (IPM) r=8, α=16, 256 calibration images', corda: true, config: { method: 'lora', r: 8, loraAlpha: 16, initLoraWeights: 'corda', cordaConfig: { cordaMethod: 'ipm' }, targetModules: HIDDEN, modulesToSave: HEAD } },
  { key: 'corda-kpm', label: 'CorDA (KPM) r=8, α=16, 256 calibration images', corda: true, config: { method: 'lora', r: 8, loraAlpha: 16, initLoraWeights: 'corda', cordaConfig: { cordaMethod: 'kpm' }, targetModules: HIDDEN, modulesToSave: HEAD } },
];

const OPTIONAL_BY_KEY = Object.fromEntries([...Object.values(OPTIONAL).flat(), ...CORDA].map((o) => [o.key, o]));

// ---------------------------------------------------------------------------------------------

function freezeAllBut(params, keep) {
  for (const [p, v] of flatten(params)) v.trainable = keep(p);
}

async function fit(model, params, data, { epochs, lr, batchSize, rng, hooks }) {
  const optimizer = adam({ lr });
  const shuffle = rng.fork('shuffle');
  const t0 = performance.now();
  const trainHooks = hooks ? Object.fromEntries(['penalty', 'transformGradients', 'afterStep'].filter((k) => hooks[k]).map((k) => [k, hooks[k]])) : {};
  const result = await train({ model, params, loss: 'cross-entropy', epochs, optimizer, rng, ...trainHooks, data: () => batches(data, { batchSize, shuffle: true, rng: shuffle }) });
  const seconds = (performance.now() - t0) / 1000;
  optimizer.dispose();
  return { seconds, steps: result.steps, msPerStep: result.timings?.msPerStep ?? (1000 * seconds) / result.steps, lastLoss: result.history.loss?.at?.(-1) };
}

async function accuracy(model, params, data) {
  const r = await evaluate(model, params, batches(data, { batchSize: 1000 }), { acc: 'accuracy', loss: 'cross-entropy' });
  return r;
}

function disposeParams(params) {
  for (const v of flatten(params).values()) if (!v.isDisposed) v.dispose();
}

/** Sets up `method` on a fresh model with the pretrained weights; returns { model, params, label, trainModel, trainParams, hooks, finish }. */
function prepare(method, pretrainedFile, run) {
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
    const spec = OPTIONAL_BY_KEY[method];
    label = spec.label;
    const rng = new Rng(`bench:${method}`);
    const config = { ...spec.config };
    if (spec.schedule) Object.assign(config, { totalStep: run.totalSteps, tinit: Math.round(run.totalSteps / 10), tfinal: Math.round(run.totalSteps / 10), deltaT: Math.max(1, Math.round(run.totalSteps / 100)) });
    if (spec.whole) {
      const { applied } = applyWholeModelMethod(model, params, config, { rng, totalSteps: run.totalSteps, stepsPerEpoch: run.stepsPerEpoch });
      return { model, params, label, trainModel: applied.trainModel, trainParams: applied.trainParams, hooks: applied.hooks, finish: applied.finish };
    }
    if (spec.corda) core.preprocessCorda(model, params, config, run.calibration);
    addAdapter(model, params, config, 'default', { rng });
  } else {
    // A method registered that this script does not know (prompt / prefix tuning, …): its
    // defaults, same targets; methods that need a transformer block fail here and are reported.
    label = `${method} (defaults)`;
    addAdapter(model, params, { method, targetModules: HIDDEN, modulesToSave: HEAD }, 'default', { rng: new Rng(`bench:${method}`) });
  }
  return { model, params, label, hooks: adapterTrainingHooks(model, params, { totalSteps: run.totalSteps }) };
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
  const extra = [...adapterMethodNames(), ...wholeModelMethodNames()]
    .filter((m) => !known.includes(m))
    .flatMap((m) => (OPTIONAL[m] ? OPTIONAL[m].map((o) => o.key) : [m]));
  const methods = ['full', 'head', 'bitfit', ...known, ...CORDA.map((c) => c.key), ...extra];
  const stepsPerEpoch = numBatches(targetTrain.size, MNIST.batchSize);
  // CorDA's calibration: the first 256 training images of 5–9, as one batch (PEFT runs a few samples).
  const calibration = [...batches(core.subsetDataset(targetTrain, Int32Array.from({ length: 256 }, (_, i) => i), 'calibration'), { batchSize: 256 })].map((b) => b.x);
  const run = { stepsPerEpoch, totalSteps: stepsPerEpoch * MNIST.adaptEpochs, calibration };
  const rows = [];
  for (const method of methods) {
    const tries = [];
    let failed;
    for (const lr of OPTIONAL_BY_KEY[method]?.lrGrid ?? MNIST.lrGrid) {
      let setup;
      try {
        setup = prepare(method, pretrainedFile, run);
      } catch (error) {
        failed = error.message;
        break;
      }
      const { model: m, params: p, label, hooks } = setup;
      const counts = trainableParameters(setup.trainParams ?? p);
      const fitted = await fit(setup.trainModel ?? m, setup.trainParams ?? p, targetTrain, { epochs: MNIST.adaptEpochs, lr, batchSize: MNIST.batchSize, rng: new Rng(`bench:adapt:${method}`), hooks });
      // Sparse methods keep whole weights as variables but train only `sparseEntries` of them.
      const sparse = hooks?.metrics?.().sparseEntries;
      if (sparse !== undefined) {
        const masked = OPTIONAL_BY_KEY[method].config.targetModules.reduce((n, t) => n + flatten(p).get(`${t}.weight`).size, 0);
        counts.trainable = counts.trainable - masked + sparse;
        counts.percent = (100 * counts.trainable) / counts.all;
      }
      hooks?.dispose?.();
      setup.finish?.();
      const val = await accuracy(m, p, targetVal);
      const test = await accuracy(m, p, targetTest);
      tries.push({ lr, label, trainable: counts.trainable, all: counts.all, percent: counts.percent, seconds: fitted.seconds, steps: fitted.steps, msPerStep: fitted.msPerStep, valAcc: val.acc, testAcc: test.acc, testLoss: test.loss });
      log(`${method} lr ${lr}: val ${val.acc.toFixed(4)} test ${test.acc.toFixed(4)} (${fitted.seconds.toFixed(1)} s, ${fitted.msPerStep.toFixed(2)} ms/step, ${counts.trainable} trainable)`);
      disposeParams(p);
    }
    if (failed) {
      log(`${method}: skipped (${failed})`);
      rows.push({ method, failed });
      continue;
    }
    const best = tries.reduce((a, b) => (b.valAcc > a.valAcc ? b : a));
    rows.push({ method, ...best, grid: tries.map((t) => ({ lr: t.lr, valAcc: t.valAcc, testAcc: t.testAcc, seconds: t.seconds, msPerStep: t.msPerStep })) });
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
