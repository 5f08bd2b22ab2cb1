import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { testOnBackends } from '../testing/backends.js';
import { Rng } from '../random.js';
import { disposeParams, variable, type Params } from '../params/params.js';
import type { Module } from '../nn/module.js';
import { train, type TrainEvent } from './loop.js';
import { adam, adamw, sgd } from './optimizers.js';
import { cosine } from './schedules.js';
import { evaluate, type Batch } from './metrics.js';

// ---- Tiny inline models and data (nn/ and data/ are built elsewhere) -------------------------

/** x·W + b. */
function linear(inDim: number, outDim: number): Module {
  return {
    kind: 'test-linear',
    init(rng) {
      const w = rng.fillNormal(new Float32Array(inDim * outDim), 0, 1 / Math.sqrt(inDim));
      return { weight: variable(tf.tensor2d(w, [inDim, outDim]), 'weight'), bias: variable(tf.zeros([outDim]), 'bias') };
    },
    apply(params, x) {
      return tf.add(tf.matMul(x as tf.Tensor2D, params.weight as tf.Variable), params.bias as tf.Variable);
    },
  };
}

/** Two-layer MLP with ReLU and (inverted) dropout on the hidden layer, seeded from ctx.rng. */
function mlp(inDim: number, hidden: number, outDim: number, dropout = 0): Module {
  const l1 = linear(inDim, hidden);
  const l2 = linear(hidden, outDim);
  return {
    kind: 'test-mlp',
    children: { l1, l2 },
    init(rng) {
      return { l1: l1.init(rng.fork('l1')), l2: l2.init(rng.fork('l2')) };
    },
    apply(params, x, ctx) {
      let h = tf.relu(l1.apply(params.l1 as Params, x));
      if (dropout > 0 && ctx?.training) {
        if (!ctx.rng) throw new Error('dropout needs ctx.rng');
        const keep = tf.step(tf.sub(tf.randomUniform(h.shape, 0, 1, 'float32', ctx.rng.seedInt()), dropout));
        h = tf.div(tf.mul(h, keep), 1 - dropout);
      }
      return l2.apply(params.l2 as Params, h);
    },
  };
}

/** A fixed synthetic classification set: inputs ~ N(0, 1), labels from a random linear teacher. */
function makeDataset(n: number, inDim: number, classes: number, seed = 123): { xs: Float32Array; ys: Int32Array } {
  const rng = new Rng(seed);
  const xs = rng.fillNormal(new Float32Array(n * inDim));
  const teacher = rng.fillNormal(new Float32Array(inDim * classes));
  const ys = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = -Infinity;
    for (let c = 0; c < classes; c++) {
      let z = 0;
      for (let j = 0; j < inDim; j++) z += xs[i * inDim + j] * teacher[j * classes + c];
      if (z > best) {
        best = z;
        ys[i] = c;
      }
    }
  }
  return { xs, ys };
}

/** Batches of a dataset in a shuffled order (fresh tensors each time; the loop disposes them). */
function* batches(data: { xs: Float32Array; ys: Int32Array }, inDim: number, batchSize: number, shuffle?: Rng): Generator<Batch> {
  const n = data.ys.length;
  const order = shuffle ? shuffle.permutation(n) : Int32Array.from({ length: n }, (_, i) => i);
  for (let start = 0; start < n; start += batchSize) {
    const idx = order.subarray(start, Math.min(n, start + batchSize));
    const x = new Float32Array(idx.length * inDim);
    const y = new Int32Array(idx.length);
    idx.forEach((row, k) => {
      x.set(data.xs.subarray(row * inDim, (row + 1) * inDim), k * inDim);
      y[k] = data.ys[row];
    });
    yield { x: tf.tensor2d(x, [idx.length, inDim]), y: tf.tensor1d(y, 'int32') };
  }
}

function regressionBatches(count: number, inDim: number, rng: Rng): Batch[] {
  return Array.from({ length: count }, () => ({
    x: tf.tensor2d(rng.fillNormal(new Float32Array(4 * inDim)), [4, inDim]),
    y: tf.tensor2d(rng.fillNormal(new Float32Array(4 * 2)), [4, 2]),
  }));
}

// ---- Tests -------------------------------------------------------------------------------------

testOnBackends('train: no tensor leaks per step, after training, and after optimizer.dispose()', async () => {
  const rng = new Rng(1);
  const model = mlp(5, 8, 3, 0.25);
  const params = model.init(rng.fork('init'));
  const data = makeDataset(20, 5, 3);
  const before = tf.memory().numTensors;
  const optimizer = sgd({ lr: 0.1, momentum: 0.9 });
  const counts: number[] = [];
  const events: TrainEvent['type'][] = [];
  const result = await train({
    model,
    params,
    loss: 'cross-entropy',
    data: () => batches(data, 5, 4, rng.fork('shuffle')),
    epochs: 4, // 5 batches × 4 = 20 steps
    optimizer,
    schedule: cosine({ lr: 0.1, totalSteps: 20, warmupSteps: 3 }),
    clipNorm: 1,
    rng,
    evaluate: { every: 5, fn: () => evaluate(model, params, batches(data, 5, 10), { acc: 'accuracy', ce: 'cross-entropy' }) },
    onProgress: (event) => {
      events.push(event.type);
      if (event.type === 'step') counts.push(tf.memory().numTensors);
    },
  });
  assert.equal(result.steps, 20);
  assert.equal(result.epochs, 4);
  assert.equal(result.stoppedBy, 'completed');
  assert.equal(counts.length, 20);
  assert.deepEqual(counts, counts.map(() => counts[0]), `numTensors per step: ${counts.join(' ')}`);
  assert.equal(tf.memory().numTensors, before + optimizer.numSlotTensors);
  optimizer.dispose();
  assert.equal(tf.memory().numTensors, before);
  assert.equal(events.filter((e) => e === 'eval').length, 4);
  assert.equal(events.filter((e) => e === 'epoch').length, 4);
  assert.equal(events.at(-1), 'end');
  assert.deepEqual(result.history.step, Array.from({ length: 20 }, (_, i) => i + 1));
  assert.deepEqual(result.history.metrics.acc.map((p) => p.step), [5, 10, 15, 20]);
  assert.ok(result.history.lr[0] < result.history.lr[2], 'warm-up');
  assert.ok(result.history.loss.every(Number.isFinite));
  assert.ok(result.timings.msPerStep > 0 && result.timings.examplesPerSecond > 0);
  disposeParams(params);
});

/** One seeded run: init, shuffling and dropout all from `seed`; returns the losses' float32 bits. */
async function seededRun(seed: number): Promise<Uint32Array> {
  const rng = new Rng(seed);
  const model = mlp(6, 16, 3, 0.5);
  const params = model.init(rng.fork('init'));
  const data = makeDataset(24, 6, 3);
  const shuffle = rng.fork('shuffle');
  const optimizer = adam({ lr: 0.01 });
  const result = await train({ model, params, loss: 'cross-entropy', data: () => batches(data, 6, 8, shuffle), epochs: 3, optimizer, rng });
  optimizer.dispose();
  disposeParams(params);
  return new Uint32Array(new Float32Array(result.history.loss).buffer);
}

testOnBackends('train: same seed, bit-identical losses (dropout + shuffling); another seed differs', async () => {
  const a = await seededRun(7);
  const b = await seededRun(7);
  const c = await seededRun(8);
  assert.equal(a.length, 9);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});

testOnBackends('train: frozen params get no gradient and are not touched', async () => {
  const rng = new Rng(2);
  const model = linear(3, 2);
  const params = model.init(rng);
  (params.bias as tf.Variable).trainable = false;
  const biasBefore = Array.from((params.bias as tf.Variable).dataSync());
  const weightBefore = Array.from((params.weight as tf.Variable).dataSync());
  const optimizer = adamw({ lr: 0.1 });
  const data = regressionBatches(3, 3, rng.fork('data'));
  await train({ model, params, loss: 'mse', data: () => data.map((b) => ({ x: b.x.clone(), y: b.y.clone() })), epochs: 2, optimizer, rng });
  assert.deepEqual(Array.from((params.bias as tf.Variable).dataSync()), biasBefore);
  assert.notDeepEqual(Array.from((params.weight as tf.Variable).dataSync()), weightBefore);
  assert.equal(optimizer.state().slots.length, 1, 'slots for the weight only');
  optimizer.dispose();
  tf.dispose(data.flatMap((b) => [b.x, b.y]));
  disposeParams(params);
});

testOnBackends('train: abort lands between steps (from another event-loop task), cleanly', async () => {
  const rng = new Rng(3);
  const model = linear(3, 2);
  const params = model.init(rng);
  const source = rng.fork('data');
  const before = tf.memory().numTensors;
  for (const yieldEvery of [1, 4]) {
    const controller = new AbortController();
    const optimizer = adam({ lr: 0.01 });
    // Queued before training starts: it can only run when the loop yields to the event loop.
    setImmediate(() => controller.abort());
    const result = await train({
      model,
      params,
      loss: 'mse',
      data: function* () {
        for (let i = 0; i < 50; i++) yield regressionBatches(1, 3, source)[0];
      },
      epochs: 2,
      optimizer,
      rng,
      signal: controller.signal,
      yieldEvery,
    });
    assert.equal(result.stoppedBy, 'aborted');
    assert.equal(result.steps, yieldEvery);
    assert.equal(result.epochs, 0);
    optimizer.dispose();
    assert.equal(tf.memory().numTensors, before, 'no leaked batch or loss');
  }
  // Already aborted: no step at all.
  const optimizer = sgd({ lr: 0.1 });
  const result = await train({ model, params, loss: 'mse', data: () => [], epochs: 1, optimizer, rng, signal: AbortSignal.abort() });
  assert.equal(result.stoppedBy, 'aborted');
  assert.equal(result.steps, 0);
  disposeParams(params);
});

testOnBackends('train: early stopping on an evaluated metric (async data, custom loss)', async () => {
  const rng = new Rng(4);
  const model = linear(3, 2);
  const params = model.init(rng);
  const source = rng.fork('data');
  const optimizer = sgd({ lr: 0.01 });
  const scripted = [1.0, 0.9, 0.95, 0.93, 0.5];
  let calls = 0;
  const evals: number[] = [];
  const result = await train({
    model,
    params,
    loss: (out, y) => tf.mean(tf.abs(tf.sub(out, y))) as tf.Scalar,
    data: async function* () {
      for (let i = 0; i < 4; i++) yield regressionBatches(1, 3, source)[0];
    },
    epochs: 10,
    optimizer,
    rng,
    evaluate: { every: 'epoch', fn: async () => ({ val: scripted[calls++] }) },
    earlyStop: { metric: 'val', mode: 'min', patience: 2, minDelta: 0.01 },
    onProgress: (event) => {
      if (event.type === 'eval') evals.push(event.step);
    },
  });
  assert.equal(result.stoppedBy, 'early-stop');
  assert.equal(result.epochs, 4);
  assert.equal(result.steps, 16);
  assert.deepEqual(evals, [4, 8, 12, 16]);
  assert.deepEqual(result.best, { metric: 'val', value: 0.9, step: 8 });
  await assert.rejects(
    train({ model, params, loss: 'mse', data: () => [], epochs: 1, optimizer, rng, earlyStop: { metric: 'x', mode: 'min', patience: 1 } }),
    /earlyStop needs evaluate/,
  );
  optimizer.dispose();
  disposeParams(params);
});

testOnBackends('train: ms/step of a 784-100-10 MLP, batch 64', async (backend, t) => {
  const rng = new Rng(5);
  const model = mlp(784, 100, 10);
  const params = model.init(rng.fork('init'));
  const data = makeDataset(64 * 4, 784, 10);
  const optimizer = adam({ lr: 1e-3 });
  const steps = 24;
  const result = await train({ model, params, loss: 'cross-entropy', data: () => batches(data, 784, 64), epochs: steps / 4, optimizer, rng });
  optimizer.dispose();
  disposeParams(params);
  assert.equal(result.steps, steps);
  assert.ok(result.history.loss[steps - 1] < result.history.loss[0], 'it learns');
  t.diagnostic(`${backend}: ${result.timings.msPerStep.toFixed(2)} ms/step (median of ${steps}), ${Math.round(result.timings.examplesPerSecond)} examples/s`);
});

// ---- Hooks for continual learning: maxSteps, penalty, transformGradients, afterStep -----------

testOnBackends('train: maxSteps stops inside an epoch; an epoch ending exactly at the limit counts', async () => {
  const rng = new Rng(3);
  const model = linear(4, 2);
  const params = model.init(rng.fork('init'));
  const data = makeDataset(20, 4, 2);
  const before = tf.memory().numTensors;
  const optimizer = sgd({ lr: 0.1 });
  let created = 0;
  const counted = function* (): Generator<Batch> {
    for (const b of batches(data, 4, 4)) {
      created++;
      yield b;
    }
  };
  const r1 = await train({ model, params, loss: 'cross-entropy', data: counted, epochs: 10, maxSteps: 7, optimizer, rng });
  assert.equal(r1.steps, 7);
  assert.equal(r1.epochs, 1, 'the second epoch was cut');
  assert.equal(r1.stoppedBy, 'completed');
  assert.equal(created, 8, 'one batch past the limit was made and disposed, none after');
  const r2 = await train({ model, params, loss: 'cross-entropy', data: counted, epochs: 10, maxSteps: 10, optimizer, rng });
  assert.equal(r2.steps, 10);
  assert.equal(r2.epochs, 2);
  assert.equal(tf.memory().numTensors, before + optimizer.numSlotTensors);
  await assert.rejects(train({ model, params, loss: 'cross-entropy', data: counted, epochs: 1, maxSteps: -1, optimizer, rng }), /maxSteps must be an integer ≥ 0/);
  optimizer.dispose();
  disposeParams(params);
});

testOnBackends('train: penalty is added inside the tape (its gradient moves the params) and counts in the loss', async () => {
  const rng = new Rng(4);
  const model = linear(3, 2);
  const params = model.init(rng.fork('init'));
  const bias = params.bias as tf.Variable;
  const optimizer = sgd({ lr: 0.5 });
  const zeroBatches = (): Batch[] => [{ x: tf.zeros([2, 3]), y: tf.zeros([2, 2]) }];
  // Zero inputs and targets: the mse of a zero bias is 0, so only the penalty (bias − 1)² moves it.
  const seen: number[] = [];
  const result = await train({
    model,
    params,
    loss: 'mse',
    data: zeroBatches,
    epochs: 1,
    optimizer,
    rng,
    penalty: ({ params: p, output, batch }) => {
      seen.push(output.shape[0], batch.x.shape[0]);
      return tf.sum(tf.square(tf.sub(p.bias as tf.Variable, 1))) as tf.Scalar;
    },
  });
  assert.deepEqual(seen, [2, 2]);
  assert.ok(Math.abs(result.history.loss[0] - 2) < 1e-6, `loss ${result.history.loss[0]} = mse 0 + penalty 2`);
  // d/db [Σ(b−1)² + mean(b²)] at b = 0 is −2 per unit; one SGD step of lr 0.5 gives b = 1.
  assert.ok(Array.from(bias.dataSync()).every((v) => Math.abs(v - 1) < 1e-6), `bias ${Array.from(bias.dataSync())}`);
  optimizer.dispose();
  disposeParams(params);
});

testOnBackends('train: transformGradients replaces the update; afterStep sees the gradients used; no leaks', async () => {
  const rng = new Rng(5);
  const model = linear(4, 3);
  const params = model.init(rng.fork('init'));
  const data = makeDataset(16, 4, 3);
  const frozen = (params.weight as tf.Variable).clone();
  const before = tf.memory().numTensors;
  const optimizer = sgd({ lr: 0.1 });
  const steps: number[] = [];
  let sumOfUsed = 0;
  const result = await train({
    model,
    params,
    loss: 'cross-entropy',
    data: () => batches(data, 4, 4),
    epochs: 2,
    optimizer,
    rng,
    // Zero every gradient but the bias's: the weight must stay where it was.
    transformGradients: ({ variables, grads }) => grads.map((g, i) => (g && variables[i] === params.weight ? tf.zerosLike(g) : g)),
    afterStep: ({ variables, grads, step }) => {
      steps.push(step);
      sumOfUsed += tf.sum(tf.abs(grads[variables.indexOf(params.weight as tf.Variable)]!)).dataSync()[0];
    },
  });
  assert.equal(result.steps, 8);
  assert.deepEqual(steps, [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.equal(sumOfUsed, 0, 'afterStep sees the transformed gradients');
  assert.equal(tf.memory().numTensors, before + optimizer.numSlotTensors);
  assert.deepEqual(Array.from((params.weight as tf.Variable).dataSync()), Array.from(frozen.dataSync()));
  frozen.dispose();
  optimizer.dispose();
  disposeParams(params);
});
