import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { testOnBackends, useBackend } from '../testing/backends.js';
import { Rng } from '../random.js';
import { disposeParams, flatten } from '../params/params.js';
import { mlp } from '../nn/mlp.js';
import { smallModel, tinySplitMnist } from './test-fixtures.js';
import { runContinual, type RunContinualOptions } from './run.js';
import { splitMnist } from './split-mnist.js';
import { STRATEGY_NAMES, strategyConfigSchemas, strategyJsonSchema, validateStrategyConfig, type StrategyConfig } from './strategy-config.js';
import { continualLoss } from './continual-loss.js';
import { scenarioOutputs, type Scenario } from './scenario.js';

const bench = tinySplitMnist(24, 20);
const trainOptions = { iterations: 4, batchSize: 8, optimizer: 'adam' as const, lr: 1e-3 };

async function run(strategy: StrategyConfig, scenario: Scenario = 'class', seed = 5, extra: Partial<RunContinualOptions> = {}) {
  const { model, params } = smallModel(bench, scenario, seed);
  try {
    return await runContinual({ benchmark: bench, scenario, model, params, strategy, train: trainOptions, seed, rng: new Rng(seed), ...extra });
  } finally {
    disposeParams(params);
  }
}

const bits = (m: number[][]): number[] => Array.from(new Uint32Array(new Float32Array(m.flat()).buffer));

testOnBackends('runContinual: same seed and backend, bit-identical matrix and losses; another seed differs; no tensors leak', async () => {
  const before = tf.memory().numTensors;
  const a = await run({ name: 'replay', memSize: 20 });
  const b = await run({ name: 'replay', memSize: 20 });
  const c = await run({ name: 'replay', memSize: 20 }, 'class', 6);
  assert.equal(tf.memory().numTensors, before);
  assert.deepEqual(bits(a.matrix), bits(b.matrix));
  assert.deepEqual(a.curves.loss.value, b.curves.loss.value);
  assert.notDeepEqual(a.curves.loss.value, c.curves.loss.value);
  assert.equal(a.matrix.length, 5);
  assert.ok(a.matrix.every((row) => row.length === 5 && row.every((v) => v >= 0 && v <= 1)));
  assert.equal(a.curves.loss.step.length, 20);
  assert.deepEqual(a.curves['exp0/accuracy'].step, [0, 4, 8, 12, 16, 20], 'at init and after each experience');
  assert.equal(a.stoppedBy, 'completed');
  assert.equal(a.strategy.storagePolicy, 'class-balanced', 'defaults filled');
  assert.equal(a.timings.perExperienceMs.length, 5);
});

test('runContinual: every strategy runs in every scenario it supports (tiny), with curves every evalEvery steps', async () => {
  await useBackend('wasm');
  const small: Record<string, Record<string, unknown>> = {
    ewc: { fisherSamples: 4 },
    'online-ewc': { fisherSamples: 4 },
    agem: { patternsPerExp: 8, sampleSize: 8 },
    gdumb: { memSize: 30 },
    replay: { memSize: 30 },
    'generative-replay': { vaeHidden: [16], zDim: 4, vaeIterations: 2 },
  };
  for (const scenario of ['task', 'domain', 'class'] as const) {
    for (const name of STRATEGY_NAMES) {
      if (name === 'adapters' && scenario !== 'task') continue;
      const events: string[] = [];
      const r = await run({ name, ...small[name] }, scenario, 5, { evalEvery: 2, onProgress: (e) => events.push(e.type) });
      assert.equal(r.matrix.length, 5, `${name}/${scenario}`);
      assert.ok(Number.isFinite(r.metrics.acc) && Number.isFinite(r.metrics.fwt), `${name}/${scenario}: metrics`);
      assert.equal(events.filter((e) => e === 'experience-end').length, strategyConfigSchemas[name] && name === 'joint' ? 1 : 5);
      if (name === 'joint') assert.ok(r.matrix.every((row) => row.join() === r.matrix[0].join()), 'joint repeats its one row');
      else assert.equal(events.filter((e) => e === 'eval').length, 10, `${name}: evalEvery 2 of 4 steps, 5 experiences`);
    }
  }
});

test('runContinual: bad options throw an Error naming the option', async () => {
  await useBackend('cpu');
  await assert.rejects(run({ name: 'ewk' as never }), /strategy.name: unknown strategy "ewk" \(known: naive, joint/);
  await assert.rejects(run({ name: 'ewc', ewc_lambda: 1 }), /unknown key 'ewc_lambda' in strategy 'ewc' — did you mean 'ewcLambda'\?/);
  await assert.rejects(run({ name: 'replay', memSize: 1e6 }), /strategy 'replay'.memSize is 1000000, larger than the stream's 120 training examples/);
  await assert.rejects(run({ name: 'gdumb', memSize: 121 }), /strategy 'gdumb'.memSize/);
  await assert.rejects(run({ name: 'agem', patternsPerExp: 25 }), /strategy 'agem'.patternsPerExp is 25, larger than experience 0's 24/);
  await assert.rejects(run({ name: 'adapters' }, 'class'), /strategy 'adapters' picks each task's adapter by its task label, which the 'class' scenario does not give/);
  await assert.rejects(run({ name: 'ewc', mode: 'online' }), /decayFactor is required with mode 'online'/);
  await assert.rejects(run({ name: 'naive' }, 'task', 5, { train: { ...trainOptions, lr: -1 } }), /train.lr must be a number > 0/);
  const noTaskIds = splitMnist({ seed: 1, train: 10, test: 10 });
  const { model, params } = smallModel(noTaskIds, 'task');
  await assert.rejects(
    runContinual({ benchmark: noTaskIds, scenario: 'task', model, params, strategy: { name: 'naive' }, train: trainOptions, seed: 1, rng: new Rng(1) }),
    /scenario 'task' needs a task label per experience.*returnTaskId: true/,
  );
  const wrong = mlp({ sizes: [784, 8, 7] });
  await assert.rejects(
    runContinual({ benchmark: bench, scenario: 'domain', model: wrong, params: wrong.init(new Rng(1)), strategy: { name: 'naive' }, train: trainOptions, seed: 1, rng: new Rng(1) }),
    /model gives outputs of shape \[1, 7\] but the 'domain' scenario .* needs 2 output units/,
  );
  disposeParams(params);
});

test('runContinual: an abort stops between steps with the rows finished so far', async () => {
  await useBackend('cpu');
  const controller = new AbortController();
  const r = await run({ name: 'naive' }, 'class', 5, { signal: controller.signal, onProgress: (e) => e.type === 'step' && e.step === 6 && controller.abort() });
  assert.equal(r.stoppedBy, 'aborted');
  assert.equal(r.matrix.length, 1);
  assert.equal(r.curves.loss.step.length, 6);
});

test('adapters: the backbone stays bit-identical; each task trains its own adapter', async () => {
  await useBackend('wasm');
  const { model, params } = smallModel(bench, 'task');
  const base = new Map([...flatten(params)].map(([path, v]) => [path, Array.from(v.dataSync())]));
  const r = await runContinual({ benchmark: bench, scenario: 'task', model, params, strategy: { name: 'adapters', r: 2 }, train: trainOptions, seed: 1, rng: new Rng(1) });
  const after = flatten(params);
  for (const [path, values] of base) assert.deepEqual(Array.from(after.get(path)!.dataSync()), values, `${path} unchanged`);
  const loraB = [...after.keys()].filter((p) => /lora_B\.task\d\.weight$/.test(p));
  assert.equal(loraB.length, 5 * 2, 'one adapter per task on both linears');
  assert.ok(loraB.every((p) => after.get(p)!.dataSync().some((v) => v !== 0)), 'every task trained its adapter');
  assert.deepEqual(r.strategy.targetModules, ['0', '1']);
  disposeParams(params);
});

test('strategy configs: every JSON Schema agrees with its table (defaults, required keys, no extras)', () => {
  for (const name of STRATEGY_NAMES) {
    const schema = strategyJsonSchema(name) as { properties: Record<string, { default?: unknown }>; required: string[]; additionalProperties: boolean };
    assert.equal(schema.additionalProperties, false);
    assert.deepEqual(Object.keys(schema.properties), Object.keys(strategyConfigSchemas[name]));
    const filled = validateStrategyConfig({ name });
    for (const [key, spec] of Object.entries(schema.properties)) if (spec.default !== undefined) assert.deepEqual(filled[key], spec.default, `${name}.${key}`);
    assert.deepEqual(schema.required, [], `${name}: every field has a default or is optional`);
  }
});

test('continualLoss: masking the inactive units equals cross-entropy over the sliced logits', async () => {
  await useBackend('cpu');
  const outputs = scenarioOutputs(bench, 'class');
  const logits = tf.tensor2d([[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [0.5, -1, 2, 0, 0, 0, 0, 0, 0, 3]]);
  const y = tf.tensor2d([
    [1, 0, 4, 0.5, 0, 4, ...Array(10).fill(0)],
    [3, 2, 4, 0.5, 0, 4, ...Array(10).fill(0)],
  ]);
  const masked = continualLoss(outputs)(logits, y).dataSync()[0];
  const sliced = (row: number[], target: number): number => -(row[target] - Math.log(row.reduce((s, v) => s + Math.exp(v), 0)));
  const expected = 0.5 * sliced([1, 2, 3, 4], 1) + 0.5 * sliced([2, 0], 1);
  assert.ok(Math.abs(masked - expected) < 1e-5, `${masked} vs ${expected}`);
});
