import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { maxAbsDiff, testOnBackends } from '../testing/backends.js';
import { flatten, disposeParams, type Params } from '../params/params.js';
import { Rng } from '../random.js';
import { mlp } from '../nn/mlp.js';
import type { Module } from '../nn/module.js';
import { train, type Batch } from '../train/loop.js';
import { adam } from '../train/optimizers.js';
import { addAdapter, merge, unmerge } from './framework.js';
import { loraConfig } from './lora.js';
import { activeTask, mtloraConfig, mtloraTaskParams, mtloraTrainableCount, setActiveTask } from './mtlora.js';
import { trainableParameters } from './report.js';
import { adapterStateDict, loadAdapter, saveAdapter } from './save.js';
import { baseOutput, checkMergeRoundTrip, output, randn, smallMlp, snapshot } from './test-fixtures.js';

const TASKS = ['a', 'b', 'c'];
const at = (params: Params, p: string): tf.Variable => flatten(params).get(p)!;

/** smallMlp (6 → 5 → 4) with MTLoRA r = 2, taskR = 3, α = 4 on both layers, every leaf random. */
function adapted(seed = 1, extra: Record<string, unknown> = {}): { model: Module; params: Params } {
  const { model, params } = smallMlp(seed);
  addAdapter(model, params, mtloraConfig({ r: 2, taskR: 3, loraAlpha: 4, tasks: TASKS, targetModules: ['0', '1'], ...extra }));
  let s = 100 + seed;
  for (const [p, v] of flatten(params)) if (p.includes('.lora_')) v.assign(tf.tidy(() => tf.mul(randn(s++, v.shape), 0.5)));
  return { model, params };
}

/** s·x·Aᵀ·Bᵀ by hand. */
const lowRank = (x: tf.Tensor, a: tf.Tensor, b: tf.Tensor, s: number): tf.Tensor => tf.tidy(() => tf.mul(tf.matMul(tf.matMul(x, a, false, true), b, false, true), s));
const layer0 = (model: Module, params: Params, x: tf.Tensor): tf.Tensor => tf.tidy(() => model.children!['0'].apply(params['0'] as Params, x));

testOnBackends('mtlora: identity at init for every task; count r·(in+out) + |tasks|·taskR·(in+out); the first task is active', () => {
  const { model, params } = smallMlp();
  const x = randn(2, [3, 6]);
  const yBase = baseOutput(model, params, x);
  const config = mtloraConfig({ r: 2, taskR: 3, tasks: TASKS, targetModules: ['0', '1'] });
  addAdapter(model, params, config);
  assert.equal(activeTask(model), 'a');
  for (const task of TASKS) {
    setActiveTask(model, task);
    assert.equal(maxAbsDiff(yBase, output(model, params, x)), 0, task);
  }
  assert.deepEqual(at(params, '0.lora_shared_A.default').shape, [2, 6]);
  assert.deepEqual(at(params, '0.lora_shared_B.default').shape, [5, 2]);
  assert.deepEqual(at(params, '1.lora_tasks_A.default.c').shape, [3, 5]);
  assert.deepEqual(at(params, '1.lora_tasks_B.default.c').shape, [4, 3]);
  const expected = 2 * 11 + 3 * 3 * 11 + (2 * 9 + 3 * 3 * 9);
  assert.equal(mtloraTrainableCount(config, { inFeatures: 6, outFeatures: 5 }) + mtloraTrainableCount(config, { inFeatures: 5, outFeatures: 4 }), expected);
  assert.equal(trainableParameters(params).trainable, expected);
  x.dispose();
});

testOnBackends('mtlora: switching the task changes only the task-specific term; the task-agnostic part is one variable both tasks use', () => {
  const { model, params } = adapted(2);
  const x = randn(3, [4, 6]);
  const p = (k: string): tf.Variable => at(params, `0.${k}`);
  const [sShared, sTask] = [4 / 2, 4 / 3];
  setActiveTask(model, 'a');
  const ya = layer0(model, params, x);
  setActiveTask(model, 'b');
  const yb = layer0(model, params, x);
  // y_t = W·x + b + s_TA·B·A·x + s_TS·B_t·A_t·x, by hand.
  const base = tf.tidy(() => tf.add(tf.matMul(x, p('weight'), false, true), p('bias')));
  const ta = lowRank(x, p('lora_shared_A.default'), p('lora_shared_B.default'), sShared);
  const tsA = lowRank(x, p('lora_tasks_A.default.a'), p('lora_tasks_B.default.a'), sTask);
  const tsB = lowRank(x, p('lora_tasks_A.default.b'), p('lora_tasks_B.default.b'), sTask);
  const refA = tf.tidy(() => tf.add(tf.add(base, ta), tsA));
  assert.ok(maxAbsDiff(ya, refA) < 1e-5, `task a: ${maxAbsDiff(ya, refA)}`);
  const switched = tf.tidy(() => tf.sub(ya, yb));
  const tsDiff = tf.tidy(() => tf.sub(tsA, tsB));
  assert.ok(maxAbsDiff(switched, tsDiff) < 1e-5, `y_a − y_b vs TS_a − TS_b: ${maxAbsDiff(switched, tsDiff)}`);
  assert.ok(maxAbsDiff(ya, yb) > 1e-3, 'the tasks differ');
  // One task-agnostic A and B per layer, and a change to them moves every task's output the same way.
  assert.deepEqual([...flatten(params).keys()].filter((k) => k.startsWith('0.lora_shared')).sort(), ['0.lora_shared_A.default', '0.lora_shared_B.default']);
  const sharedB = p('lora_shared_B.default');
  sharedB.assign(tf.tidy(() => tf.add(sharedB, randn(9, sharedB.shape))));
  const yb2 = layer0(model, params, x);
  setActiveTask(model, 'a');
  const ya2 = layer0(model, params, x);
  const moveA = tf.tidy(() => tf.sub(ya2, ya));
  const moveB = tf.tidy(() => tf.sub(yb2, yb));
  assert.ok(maxAbsDiff(moveA, moveB) < 1e-5 && maxAbsDiff(moveA, tf.zerosLike(moveA)) > 1e-3, 'the shared part is shared');
  tf.dispose([x, ya, yb, base, ta, tsA, tsB, refA, switched, tsDiff, yb2, ya2, moveA, moveB]);
});

testOnBackends('mtlora: a task-a batch gives gradients to TA and TS-a, none to TS-b or TS-c; training on it leaves TS-b, TS-c and the base untouched', async () => {
  const { model, params } = adapted(3);
  setActiveTask(model, 'a');
  const x = randn(4, [8, 6]);
  const y = randn(5, [8, 4]);
  const variables = [...flatten(params).values()].filter((v) => v.trainable);
  const { value, grads } = tf.variableGrads(() => tf.tidy(() => tf.mean(tf.square(tf.sub(model.apply(params, x), y)))) as tf.Scalar, variables);
  const named = new Map([...flatten(params)].map(([k, v]) => [v.name, k]));
  const reached = Object.keys(grads).map((n) => named.get(n)!).sort();
  const expected = ['0', '1'].flatMap((l) => ['lora_shared_A.default', 'lora_shared_B.default', 'lora_tasks_A.default.a', 'lora_tasks_B.default.a'].map((k) => `${l}.${k}`)).sort();
  assert.deepEqual(reached, expected);
  for (const g of Object.values(grads)) assert.ok(maxAbsDiff(g, tf.zerosLike(g)) > 0, 'non-zero gradient');
  tf.dispose([value, ...Object.values(grads)]);
  const before = snapshot(params);
  const optimizer = adam({ lr: 1e-2 });
  await train({ model, params, loss: 'mse', epochs: 3, optimizer, rng: new Rng(3), data: () => [{ x: randn(10, [8, 6]), y: randn(11, [8, 4]) }] });
  for (const [p, v] of flatten(params)) {
    const moved = maxAbsDiff(before.get(p)!, v.dataSync()) > 0;
    assert.equal(moved, expected.includes(p), `${p} ${moved ? 'changed' : 'did not change'}`);
  }
  // Round-robin multi-task training: the generator selects each batch's task before yielding it.
  const seen: string[] = [];
  async function* roundRobin(): AsyncGenerator<Batch> {
    for (let step = 0; step < 6; step++) {
      const task = TASKS[step % TASKS.length];
      setActiveTask(model, task);
      seen.push(task);
      yield { x: randn(20 + step, [8, 6]), y: randn(30 + step, [8, 4]) };
    }
  }
  const mid = snapshot(params);
  await train({ model, params, loss: 'mse', epochs: 1, optimizer, rng: new Rng(4), data: roundRobin });
  optimizer.dispose();
  assert.deepEqual(seen, ['a', 'b', 'c', 'a', 'b', 'c']);
  for (const task of TASKS) assert.ok(maxAbsDiff(mid.get(`1.lora_tasks_A.default.${task}`)!, at(params, `1.lora_tasks_A.default.${task}`).dataSync()) > 0, `TS-${task} trained`);
  assert.equal(maxAbsDiff(mid.get('0.weight')!, at(params, '0.weight').dataSync()), 0, 'the base stays frozen');
  tf.dispose([x, y]);
});

testOnBackends('mtlora: merge folds TA + the active task; switching while merged is refused; per-task export runs on the plain base', () => {
  const { model, params } = adapted(4);
  const x = randn(6, [5, 6]);
  setActiveTask(model, 'b');
  checkMergeRoundTrip(model, params, x, ['0.weight', '1.weight']);
  merge(model, params);
  assert.throws(() => setActiveTask(model, 'c'), /MTLoRA adapter 'default' is merged with task 'b' into 0, 1; unmerge first/);
  setActiveTask(model, 'b');
  assert.throws(() => mtloraTaskParams(model, params, 'a'), /unmerge first/);
  unmerge(model, params);
  const weights = snapshot(params);
  const plain = mlp({ sizes: [6, 5, 4] });
  const outputs = TASKS.map((task) => {
    setActiveTask(model, task);
    const y = output(model, params, x);
    const exported = mtloraTaskParams(model, params, task);
    assert.deepEqual([...flatten(exported).keys()], ['0.weight', '0.bias', '1.weight', '1.bias']);
    assert.ok([...flatten(exported).values()].every((v) => !v.trainable));
    const yPlain = output(plain, exported, x);
    assert.ok(maxAbsDiff(y, yPlain) < 1e-5, `task ${task}: ${maxAbsDiff(y, yPlain)}`);
    disposeParams(exported);
    return y;
  });
  assert.ok(maxAbsDiff(outputs[0], outputs[1]) > 1e-3 && maxAbsDiff(outputs[1], outputs[2]) > 1e-3);
  for (const [p, v] of flatten(params)) assert.equal(maxAbsDiff(weights.get(p)!, v.dataSync()), 0, `export changed ${p}`);
  x.dispose();
});

testOnBackends('mtlora: taskModules limits task-specific updates to some layers', () => {
  const { model, params } = smallMlp();
  const config = mtloraConfig({ r: 2, tasks: ['x', 'y'], taskModules: ['1'], targetModules: ['0', '1'] });
  addAdapter(model, params, config);
  const keys = [...flatten(params).keys()];
  assert.ok(!keys.some((k) => k.startsWith('0.lora_tasks')));
  assert.ok(keys.includes('1.lora_tasks_B.default.y'));
  assert.equal(trainableParameters(params).trainable, mtloraTrainableCount(config, { inFeatures: 6, outFeatures: 5 }, false) + mtloraTrainableCount(config, { inFeatures: 5, outFeatures: 4 }));
  assert.equal(trainableParameters(params).trainable, 2 * 11 + (2 * 9 + 2 * 2 * 9));
});

testOnBackends('mtlora: errors name the key, the task or the layer', () => {
  const { model, params } = smallMlp();
  assert.throws(() => mtloraConfig({ tasks: ['a', 'a'], targetModules: ['0'] }), /MtloraConfig\.tasks must be a non-empty list of distinct task names/);
  assert.throws(() => mtloraConfig({ tasks: ['a.b'], targetModules: ['0'] }), /MtloraConfig\.tasks must be/);
  assert.throws(() => mtloraConfig({ tasks: [], targetModules: ['0'] }), /MtloraConfig\.tasks must be/);
  assert.throws(() => mtloraConfig({ targetModules: ['0'] } as never), /MtloraConfig\.tasks is required/);
  assert.throws(() => addAdapter(model, params, mtloraConfig({ r: 2, tasks: ['a'], taskModules: ['2'], targetModules: ['0', '1'] })), /MtloraConfig\.taskModules \["2"\] matches none of the adapted layers \(0, 1\)/);
  assert.throws(() => addAdapter(model, params, mtloraConfig({ r: 2, taskR: 5, tasks: ['a'], targetModules: ['1'] })), /MtloraConfig\.taskR = 5 is larger than min\(in, out\) = 4 of layer '1'/);
  assert.ok([...flatten(params).keys()].every((k) => !k.includes('lora')), 'failed adds leave nothing behind');
  addAdapter(model, params, mtloraConfig({ tasks: ['depth', 'segment'], r: 2, targetModules: ['0'] }));
  assert.throws(() => setActiveTask(model, 'dept'), /MTLoRA adapter 'default' has no task 'dept' — did you mean 'depth'\? \(tasks: depth, segment\)/);
  const other = smallMlp();
  addAdapter(other.model, other.params, loraConfig({ r: 2, targetModules: ['0'] }));
  assert.throws(() => setActiveTask(other.model, 'a'), /setActiveTask: adapter 'default' is Lora, not MTLoRA/);
});

testOnBackends('mtlora: save → load round trip is exact for every task; the authors\' key names', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hyperlab-mtlora-'));
  const a = adapted(5, { loraDropout: 0.1 });
  saveAdapter(dir, a.model, a.params);
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'adapter_config.json'), 'utf8'));
  assert.equal(json.peft_type, 'MTLORA');
  assert.deepEqual(json.tasks, TASKS);
  assert.equal(json.task_r, 3);
  assert.equal(json.lora_alpha, 4);
  const b = smallMlp(5);
  const loaded = loadAdapter(dir, b.model, b.params);
  const keys = [...adapterStateDict(loaded).keys()].filter((k) => k.includes('.0.')).sort();
  assert.deepEqual(keys, ['lora_shared_A', 'lora_shared_B', 'lora_tasks_A.a', 'lora_tasks_A.b', 'lora_tasks_A.c', 'lora_tasks_B.a', 'lora_tasks_B.b', 'lora_tasks_B.c'].map((k) => `base_model.model.0.${k}`));
  const x = randn(7, [3, 6]);
  for (const task of TASKS) {
    setActiveTask(a.model, task);
    setActiveTask(b.model, task);
    assert.equal(maxAbsDiff(output(a.model, a.params, x), output(b.model, b.params, x)), 0, task);
  }
  fs.rmSync(dir, { recursive: true, force: true });
  x.dispose();
});
