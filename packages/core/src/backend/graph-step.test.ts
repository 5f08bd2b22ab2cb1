import assert from 'node:assert/strict';
import test from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { NATIVE_PROBLEM, useBackend } from '../testing/backends.js';
import { Rng } from '../random.js';
import { disposeParams, trainableVariables, variable, type Params } from '../params/params.js';
import type { Module } from '../nn/module.js';
import { train, type TrainOptions } from '../train/loop.js';
import { adam, adamw, sgd, type Optimizer } from '../train/optimizers.js';
import { cosine } from '../train/schedules.js';
import type { Batch } from '../train/metrics.js';
import { canCompileSteps, StepCompiler } from './graph-step.js';

/** A two-layer MLP, optionally with dropout drawn from ctx.rng (a mask made in JavaScript). */
function mlp(inDim: number, hidden: number, outDim: number, dropout = 0): Module {
  return {
    kind: 'test-mlp',
    init(rng) {
      const w1 = rng.fillNormal(new Float32Array(inDim * hidden), 0, 1 / Math.sqrt(inDim));
      const w2 = rng.fillNormal(new Float32Array(hidden * outDim), 0, 1 / Math.sqrt(hidden));
      return {
        w1: variable(tf.tensor2d(w1, [inDim, hidden]), 'w1'),
        b1: variable(tf.zeros([hidden]), 'b1'),
        w2: variable(tf.tensor2d(w2, [hidden, outDim]), 'w2'),
        b2: variable(tf.zeros([outDim]), 'b2'),
      };
    },
    apply(params, x, ctx) {
      let h = tf.relu(tf.add(tf.matMul(x as tf.Tensor2D, params.w1 as tf.Variable), params.b1 as tf.Variable));
      if (dropout > 0 && ctx?.training) {
        const keep = tf.step(tf.sub(tf.randomUniform(h.shape, 0, 1, 'float32', ctx.rng!.seedInt()), dropout));
        h = tf.div(tf.mul(h, keep), 1 - dropout);
      }
      return tf.add(tf.matMul(h as tf.Tensor2D, params.w2 as tf.Variable), params.b2 as tf.Variable);
    },
  };
}

const IN = 12;
const CLASSES = 4;

/** Batches of a fixed synthetic set (n examples, the last batch smaller when size does not divide n). */
function data(n: number, size: number, seed = 3): () => Iterable<Batch> {
  const rng = new Rng(seed);
  const xs = rng.fillNormal(new Float32Array(n * IN));
  const ys = Int32Array.from({ length: n }, (_, i) => (xs[i * IN] > 0 ? 1 : 0) + (xs[i * IN + 1] > 0 ? 2 : 0));
  return function* () {
    for (let i = 0; i < n; i += size) {
      const m = Math.min(size, n - i);
      yield { x: tf.tensor2d(xs.subarray(i * IN, (i + m) * IN), [m, IN]), y: tf.tidy(() => tf.oneHot(tf.tensor1d(ys.subarray(i, i + m), 'int32'), CLASSES)) };
    }
  };
}

interface Run {
  losses: number[];
  params: Float32Array[];
  optimizer: Optimizer;
  result: Awaited<ReturnType<typeof train>>;
}

async function run(options: Partial<TrainOptions> & { compile: boolean | 'auto'; optimizer: Optimizer }, dropout = 0): Promise<Run> {
  const model = mlp(IN, 16, CLASSES, dropout);
  const rng = new Rng(11);
  const params = model.init(rng.fork('init'));
  const losses: number[] = [];
  const result = await train({
    model,
    params,
    loss: 'cross-entropy',
    data: data(96, 16),
    epochs: 3,
    rng,
    onProgress: (e) => {
      if (e.type === 'step') losses.push(e.loss);
    },
    ...options,
  });
  const values = trainableVariables(params).map((v) => v.dataSync() as Float32Array);
  disposeParams(params);
  return { losses, params: values, optimizer: options.optimizer, result };
}

function maxDiff(a: readonly ArrayLike<number>[], b: readonly ArrayLike<number>[]): number {
  let max = 0;
  a.forEach((x, k) => {
    for (let i = 0; i < x.length; i++) max = Math.max(max, Math.abs(x[i] - b[k][i]));
  });
  return max;
}

if (NATIVE_PROBLEM !== undefined) {
  test('compiled steps: only on the native backend; train() runs eagerly elsewhere', async () => {
    await useBackend('wasm');
    assert.equal(canCompileSteps(), false);
    assert.throws(() => new StepCompiler(), /needs the native backend/);
    const r = await run({ compile: true, optimizer: adam({ lr: 0.01 }) });
    assert.equal(r.result.compiled, undefined);
    r.optimizer.dispose();
  });
} else {
  test('compiled steps: train() on the native backend compiles after two agreeing traces, matches eager steps to rounding, and is deterministic', async () => {
    await useBackend('tensorflow');
    assert.equal(canCompileSteps(), true);
    for (const make of [() => adam({ lr: 0.01 }), () => adamw({ lr: 0.01, weightDecay: 0.1 }), () => sgd({ lr: 0.05, momentum: 0.9 })]) {
      const before = tf.memory().numTensors;
      const eager = await run({ compile: false, optimizer: make(), schedule: cosine({ lr: 0.01, totalSteps: 18, minLr: 0.001 }) });
      const compiled = await run({ compile: 'auto', optimizer: make(), schedule: cosine({ lr: 0.01, totalSteps: 18, minLr: 0.001 }) });
      const again = await run({ compile: 'auto', optimizer: make(), schedule: cosine({ lr: 0.01, totalSteps: 18, minLr: 0.001 }) });
      const kind = eager.optimizer.kind;
      assert.equal(eager.result.compiled, undefined);
      // 18 steps of 16 (96 examples: no partial batch): the first creates the optimizer's slots (a
      // step that creates variables is no graph), two more agree, the other 15 run compiled.
      assert.deepEqual({ ...compiled.result.compiled, reason: undefined, compileMs: undefined }, { compiledSteps: 15, eagerSteps: 3, graphs: 1, guardMisses: 0, reason: undefined, compileMs: undefined }, kind);
      assert.equal(compiled.losses.length, 18);
      for (let i = 0; i < 18; i++) assert.ok(Math.abs(compiled.losses[i] - eager.losses[i]) < 1e-4, `${kind} step ${i}: ${compiled.losses[i]} vs ${eager.losses[i]}`);
      assert.ok(maxDiff(compiled.params, eager.params) < 1e-4, `${kind}: parameters differ by ${maxDiff(compiled.params, eager.params)}`);
      assert.deepEqual(again.losses, compiled.losses, `${kind}: compiled runs are bit-identical`);
      assert.equal(maxDiff(again.params, compiled.params), 0);
      // The optimizer's counters advanced as if every step had run eagerly (checkpoints rely on them).
      const e = eager.optimizer.state();
      const c = compiled.optimizer.state();
      assert.equal(c.iterations, e.iterations);
      assert.deepEqual(c.slots.map((s) => s.step), e.slots.map((s) => s.step));
      assert.ok(maxDiff(c.slots.flatMap((s) => Object.values(s.tensors).map((t) => t.dataSync())), e.slots.flatMap((s) => Object.values(s.tensors).map((t) => t.dataSync()))) < 1e-4);
      for (const r of [eager, compiled, again]) r.optimizer.dispose();
      assert.equal(tf.memory().numTensors, before, `${kind}: no tensors left behind`);
    }
  });

  test('compiled steps: a partial last batch gets its own graph; dropout and per-step JavaScript constants keep steps eager', async () => {
    await useBackend('tensorflow');
    // 100 examples in batches of 16: six full batches and one of 4 per epoch, 3 epochs.
    const model = mlp(IN, 16, CLASSES);
    const rng = new Rng(2);
    const params = model.init(rng);
    const optimizer = adam({ lr: 0.01 });
    const result = await train({ model, params, loss: 'cross-entropy', data: data(100, 16), epochs: 3, optimizer, rng });
    // Full batches: 3 eager (slots made, two agreeing traces) + 15 compiled; the batch of 4, once
    // per epoch: traced twice, compiled once.
    assert.deepEqual({ ...result.compiled, reason: undefined, compileMs: undefined }, { compiledSteps: 16, eagerSteps: 5, graphs: 2, guardMisses: 0, reason: undefined, compileMs: undefined });
    optimizer.dispose();
    disposeParams(params);

    const dropout = await run({ compile: 'auto', optimizer: adam({ lr: 0.01 }) }, 0.5);
    assert.equal(dropout.result.compiled?.compiledSteps, 0);
    assert.match(dropout.result.compiled?.reason ?? '', /different ops or constants/);
    dropout.optimizer.dispose();

    // A penalty scaled by a number that grows each step, made in JavaScript: never compiled, and the
    // result equals an eager run's bit for bit (the steps were the eager ones).
    const penalised = async (compile: boolean): Promise<Run> => {
      let k = 0;
      return run({ compile, optimizer: adam({ lr: 0.01 }), penalty: ({ params: p }) => tf.mul(tf.sum(tf.square(p.w1 as tf.Variable)), 1e-3 * ++k) as tf.Scalar });
    };
    const a = await penalised(true);
    const b = await penalised(false);
    assert.equal(a.result.compiled?.compiledSteps, 0);
    assert.equal(a.result.compiled?.graphs, 0);
    assert.deepEqual(a.losses, b.losses);
    a.optimizer.dispose();
    b.optimizer.dispose();
  });

  test('compiled steps: variables assigned by a pure afterStep hook are updated by the graph (an SI-style path integral)', async () => {
    await useBackend('tensorflow');
    const runWith = async (compile: boolean): Promise<{ path: Float32Array; run: Run }> => {
      let path: tf.Variable | undefined;
      let previous: tf.Variable | undefined;
      const r = await run({
        compile,
        optimizer: adam({ lr: 0.01 }),
        afterStep: ({ variables, grads }) => {
          const w = variables[0];
          path ??= tf.variable(tf.zerosLike(w), false);
          previous ??= tf.variable(tf.zerosLike(w), false);
          path.assign(tf.sub(path, tf.mul(grads[0]!, tf.sub(w, previous))));
          previous.assign(w);
        },
      });
      const values = path!.dataSync() as Float32Array;
      path!.dispose();
      previous!.dispose();
      return { path: values, run: r };
    };
    const compiled = await runWith(true);
    const eager = await runWith(false);
    // The first step creates the optimizer's slots and the hook's variables (no graph); then two agreeing traces.
    assert.deepEqual({ ...compiled.run.result.compiled, reason: undefined, compileMs: undefined }, { compiledSteps: 15, eagerSteps: 3, graphs: 1, guardMisses: 0, reason: undefined, compileMs: undefined });
    assert.ok(maxDiff([compiled.path], [eager.path]) < 1e-5, `path integral differs by ${maxDiff([compiled.path], [eager.path])}`);
    assert.ok(eager.path.some((v) => v !== 0));
    compiled.run.optimizer.dispose();
    eager.run.optimizer.dispose();
  });

  test('compiled steps: a value read back inside the step is a guard: when it changes, the compiled result is dropped and the step runs eagerly', async () => {
    await useBackend('tensorflow');
    const counter = tf.variable(tf.scalar(0), false);
    const compiler = new StepCompiler();
    // The step adds +1 or −1 depending on the sign of the batch's sum, decided in JavaScript.
    const step = (x: tf.Tensor): tf.Tensor =>
      tf.tidy(() => {
        const positive = tf.sum(x).dataSync()[0] > 0;
        counter.assign(tf.add(counter, positive ? 1 : -1));
        return tf.mul(counter, 2);
      });
    const signs = [1, 1, 1, 1, -1, 1, -1, -1, 1];
    let expected = 0;
    for (const sign of signs) {
      const x = tf.fill([3], sign);
      const result = compiler.run(() => step(x), [x], () => []);
      expected += sign;
      assert.equal(counter.dataSync()[0], expected);
      assert.equal(result.dataSync()[0], 2 * expected);
      result.dispose();
      x.dispose();
    }
    // Traced: steps 1, 2 (compiled from step 3); the sign flips at steps 5 and 7 miss the guard and
    // run eagerly; step 8's −1 (after a compiled +1) misses again; the others run compiled.
    assert.equal(compiler.stats.graphs, 1);
    assert.equal(compiler.stats.compiledSteps + compiler.stats.eagerSteps, signs.length);
    assert.equal(compiler.stats.guardMisses, 3);
    compiler.dispose();
    counter.dispose();
  });
}

if (NATIVE_PROBLEM === undefined) {
  test('compiled steps: compileKey gives each task of a round-robin multi-head model its own graph (and its own variables to update)', async () => {
    await useBackend('tensorflow');
    const runWith = async (compile: boolean): Promise<{ losses: number[]; heads: Float32Array[]; stats: unknown; optimizer: Optimizer }> => {
      let task = 0;
      const rng = new Rng(6);
      const body = mlp(IN, 16, CLASSES);
      const params: Params = { body: body.init(rng.fork('body')), head0: variable(tf.randomNormal([CLASSES, CLASSES], 0, 0.5, 'float32', 1), 'head0'), head1: variable(tf.randomNormal([CLASSES, CLASSES], 0, 0.5, 'float32', 2), 'head1') };
      const model: Module = { kind: 'two-heads', init: () => params, apply: (p, x, ctx) => tf.matMul(body.apply(p.body as Params, x, ctx) as tf.Tensor2D, p[`head${task}`] as tf.Variable) };
      const source = data(96, 16);
      const optimizer = adam({ lr: 0.01 });
      const losses: number[] = [];
      let k = 0;
      const result = await train({
        model,
        params,
        loss: 'cross-entropy',
        data: function* () {
          for (const batch of source()) {
            task = k++ % 2; // the model applies this task's head to the batch in flight
            yield batch;
          }
        },
        epochs: 3,
        optimizer,
        rng,
        compile,
        compileKey: () => String(task),
        onProgress: (e) => {
          if (e.type === 'step') losses.push(e.loss);
        },
      });
      const heads = [params.head0, params.head1].map((h) => (h as tf.Variable).dataSync() as Float32Array);
      disposeParams(params);
      return { losses, heads, stats: result.compiled, optimizer };
    };
    const compiled = await runWith(true);
    const eager = await runWith(false);
    // Per task: one step making slots (task 0 makes the body's and head0's, task 1 head1's), two agreeing traces.
    assert.deepEqual({ ...(compiled.stats as object), compileMs: undefined }, { compiledSteps: 12, eagerSteps: 6, graphs: 2, guardMisses: 0, compileMs: undefined });
    for (let i = 0; i < 18; i++) assert.ok(Math.abs(compiled.losses[i] - eager.losses[i]) < 1e-4, `step ${i}: ${compiled.losses[i]} vs ${eager.losses[i]}`);
    assert.ok(maxDiff(compiled.heads, eager.heads) < 1e-4);
    // Each head was updated only on its own task's steps: Adam's per-variable counts say 9 each.
    const steps = (o: Optimizer) => o.state().slots.map((s) => `${s.variable.name.replace(/_\d+$/, '')}:${s.step}`);
    assert.deepEqual(steps(compiled.optimizer), steps(eager.optimizer));
    compiled.optimizer.dispose();
    eager.optimizer.dispose();
  });
}
