/**
 * The real training check: an MLP 784-100-10 trained on the full MNIST training set (60,000
 * images, the original IDX files) reaches at least 97% accuracy on the 10,000 test images, on the
 * default backend. Prints the wall time (recorded in docs/benchmarks.md).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adam, batches, evaluate, loadMnist, mlp, Rng, setBackend, train } from './index.js';

test('MLP 784-100-10 on full MNIST reaches >= 97% test accuracy', async () => {
  const info = await setBackend('auto');
  const rng = new Rng(20261127);
  const trainSet = loadMnist({ split: 'train', normalize: 'standard', flatten: true });
  const testSet = loadMnist({ split: 'test', normalize: 'standard', flatten: true });
  assert.equal(trainSet.size, 60000);
  assert.equal(testSet.size, 10000);
  const model = mlp({ sizes: [784, 100, 10] });
  const params = model.init(rng.fork('init'));
  const optimizer = adam({ lr: 2e-3 });
  const shuffle = rng.fork('shuffle');
  const started = performance.now();
  const result = await train({
    model,
    params,
    loss: 'cross-entropy',
    data: () => batches(trainSet, { batchSize: 128, shuffle: true, rng: shuffle }),
    epochs: 5,
    optimizer,
    rng,
  });
  const seconds = (performance.now() - started) / 1000;
  const metrics = await evaluate(model, params, batches(testSet, { batchSize: 1000, shuffle: false }), ['accuracy']);
  optimizer.dispose();
  console.log(`MNIST MLP 784-100-10: test accuracy ${(metrics.accuracy * 100).toFixed(2)}% after ${result.steps} steps, ${seconds.toFixed(1)} s training wall time on ${info.name} (${result.timings.msPerStep.toFixed(2)} ms/step)`);
  assert.ok(metrics.accuracy >= 0.97, `accuracy ${metrics.accuracy}`);
});
