import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { testOnBackends } from '../testing/backends.js';
import { Rng } from '../random.js';
import { disposeParams, flatten, type Params } from '../params/params.js';
import { mlp } from '../nn/mlp.js';
import { batches } from '../data/dataset.js';
import { sumGreaterThan } from '../data/synthetic.js';
import { encodeSafetensors } from '../io/safetensors.js';
import { train, type TrainResult } from './loop.js';
import { adam, sgd, type Optimizer } from './optimizers.js';
import { linearWarmup } from './schedules.js';
import { CheckpointError, encodeTrainingCheckpoint, restoreTrainingCheckpoint } from './checkpoint.js';

const data = sumGreaterThan({ n: 40, features: 6, threshold: 3, rng: new Rng(5) });
const model = mlp({ sizes: [6, 12, 2], dropout: 0.25 });

/** A run's moving parts: fresh params (seed 11), its optimizer and the data-order and dropout generators. */
function setup(makeOptimizer: () => Optimizer = () => adam({ lr: 0.01 })): { params: Params; optimizer: Optimizer; shuffle: Rng; dropout: Rng } {
  const root = new Rng(11);
  const params = model.init(root.fork('init'));
  flatten(params).get('0.bias')!.trainable = false; // a frozen leaf: not saved, not restored
  return { params, optimizer: makeOptimizer(), shuffle: root.fork('shuffle'), dropout: root.fork('dropout') };
}

/** Trains up to `epochs` (from `start`), evaluating every 3 steps; the warmup schedule spans the whole run. */
function trainTo(run: ReturnType<typeof setup>, epochs: number, start?: { epoch: number; step: number }): Promise<TrainResult> {
  return train({
    model,
    params: run.params,
    loss: 'cross-entropy',
    data: () => batches(data, { batchSize: 8, shuffle: true, rng: run.shuffle }),
    epochs,
    optimizer: run.optimizer,
    schedule: linearWarmup({ lr: 0.01, warmupSteps: 12 }),
    rng: new Rng(0),
    dropoutRng: run.dropout,
    evaluate: { every: 3, fn: () => ({ norm: tf.tidy(() => tf.norm(flatten(run.params).get('1.weight')!).dataSync()[0]) }) },
    ...(start ? { start } : {}),
  });
}

const values = (params: Params): Record<string, number[]> => Object.fromEntries([...flatten(params)].map(([path, leaf]) => [path, Array.from(leaf.dataSync())]));

testOnBackends('a checkpoint after epoch 2, restored into a fresh run, continues bit for bit like one run of 4 epochs', async () => {
  const whole = setup();
  const once = await trainTo(whole, 4);

  const first = setup();
  await trainTo(first, 2);
  const bytes = encodeTrainingCheckpoint({ params: first.params, optimizer: first.optimizer, epoch: 2, step: 10, rngs: { shuffle: first.shuffle, dropout: first.dropout }, metadata: { method: 'test' } });
  const numTensors = tf.memory().numTensors;

  const second = setup();
  const restored = restoreTrainingCheckpoint(bytes, second);
  assert.deepEqual({ epoch: restored.epoch, step: restored.step, metadata: restored.metadata }, { epoch: 2, step: 10, metadata: { method: 'test' } });
  assert.equal(tf.memory().numTensors, numTensors + second.optimizer.numSlotTensors + flatten(second.params).size, 'decoded tensors freed; only the new run and its slots remain');
  const resumed = await trainTo({ ...second, shuffle: Rng.fromState(restored.rngs.shuffle), dropout: Rng.fromState(restored.rngs.dropout) }, 4, restored);

  assert.deepEqual(values(second.params), values(whole.params));
  assert.equal(resumed.steps, 20);
  assert.equal(resumed.epochs, 4);
  assert.deepEqual(resumed.history.step, once.history.step.slice(10));
  assert.deepEqual(resumed.history.loss, once.history.loss.slice(10));
  assert.deepEqual(resumed.history.lr, once.history.lr.slice(10), 'the schedule sees the whole run\'s step numbers');
  assert.deepEqual(resumed.history.metrics.norm, once.history.metrics.norm.filter((p) => p.step > 10), 'evaluations at the same steps');
  assert.deepEqual(second.optimizer.state().slots.map((s) => s.step), whole.optimizer.state().slots.map((s) => s.step));
  await assert.rejects(trainTo(second, 4, { epoch: 5, step: 25 }), /train: start\.epoch is 5, past epochs \(4\)/);
  for (const run of [whole, first, second]) {
    run.optimizer.dispose();
    disposeParams(run.params);
  }
});

testOnBackends('a checkpoint that does not fit names the keys; nothing changes', async () => {
  const run = setup();
  await trainTo(run, 1);
  const bytes = encodeTrainingCheckpoint({ params: run.params, optimizer: run.optimizer, epoch: 1, step: 5 });

  const wider = mlp({ sizes: [6, 16, 2] }).init(new Rng(11).fork('init'));
  const before = values(wider);
  const optimizer = adam({ lr: 0.01 });
  assert.throws(
    () => restoreTrainingCheckpoint(bytes, { params: wider, optimizer }),
    (error: Error) => error instanceof CheckpointError && /0\.weight is float32 \[12, 6\] in the checkpoint but float32 \[16, 6\] here/.test(error.message) && /trained here but not in the checkpoint: 0\.bias/.test(error.message),
  );
  assert.deepEqual(values(wider), before);
  assert.equal(optimizer.numSlotTensors, 0);

  const other = setup(() => sgd({ lr: 0.1, momentum: 0.9 }));
  assert.throws(() => restoreTrainingCheckpoint(bytes, other), /holds the state of a adam optimizer, but this run trains with sgd/);
  assert.throws(() => restoreTrainingCheckpoint(encodeSafetensors({ x: tf.zeros([1]) }, { format: 'something-else' }), other), /format is "something-else"/);
  assert.throws(() => restoreTrainingCheckpoint(new Uint8Array([1, 2, 3]), other), CheckpointError);
  assert.throws(() => encodeTrainingCheckpoint({ params: run.params, optimizer: run.optimizer, epoch: 1, step: 5, metadata: { step: '3' } }), /metadata keys step are reserved/);
  for (const r of [run, other]) {
    r.optimizer.dispose();
    disposeParams(r.params);
  }
  optimizer.dispose();
  disposeParams(wider);
});
