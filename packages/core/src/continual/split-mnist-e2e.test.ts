/**
 * End to end on real MNIST: Split MNIST (200 training images per experience), class-incremental,
 * a 784-100-10 MLP; experience replay forgets less than naive fine-tuning.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBackend } from '../testing/backends.js';
import { Rng } from '../random.js';
import { mlp } from '../nn/mlp.js';
import { disposeParams } from '../params/params.js';
import { splitMnist } from './split-mnist.js';
import { runContinual } from './run.js';

test('Split MNIST class-IL: replay forgets less than naive and ends more accurate', async () => {
  await useBackend('wasm');
  const benchmark = splitMnist({ seed: 3, train: 200, test: 200 });
  const results: Record<string, { acc: number; forgetting: number }> = {};
  for (const strategy of [{ name: 'naive' as const }, { name: 'replay' as const, memSize: 200 }]) {
    const rng = new Rng(3);
    const model = mlp({ sizes: [784, 100, 10] });
    const params = model.init(rng.fork('init'));
    const r = await runContinual({ benchmark, scenario: 'class', model, params, strategy, train: { iterations: 60, batchSize: 32, optimizer: 'adam', lr: 1e-3 }, seed: 3, rng });
    results[strategy.name] = r.metrics;
    disposeParams(params);
  }
  console.log(`naive ACC ${results.naive.acc.toFixed(3)} forgetting ${results.naive.forgetting.toFixed(3)}; replay ACC ${results.replay.acc.toFixed(3)} forgetting ${results.replay.forgetting.toFixed(3)}`);
  assert.ok(results.naive.forgetting > 0.5, 'naive forgets most of each old experience in class-IL');
  assert.ok(results.replay.forgetting < results.naive.forgetting - 0.2);
  assert.ok(results.replay.acc > results.naive.acc + 0.2);
});
