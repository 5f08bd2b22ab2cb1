import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { maxAbsDiff, testOnBackends } from '../testing/backends.js';
import { Rng } from '../random.js';
import { mlp } from '../nn/mlp.js';
import { disposeParams, flatten, trainableVariables } from '../params/params.js';
import { adam } from '../train/optimizers.js';
import { loadAdapter, saveAdapter } from '../adapters/save.js';
import { merge, setActiveAdapters, unmerge } from '../adapters/framework.js';
import { hyperLora, materializeAdapter } from './hyper-lora.js';

const makeBase = () => {
  const model = mlp({ sizes: [6, 8, 8, 4] });
  return { model, params: model.init(new Rng(1)) };
};

testOnBackends('hyperLora: one generator, A/B per targeted layer; identity at init; training reaches the generator and embeddings only; a materialised task adapter saves and loads back with the same outputs', () => {
  const { model, params: baseParams } = makeBase();
  const generator = hyperLora({ base: model, targetModules: ['0', '1', '2'], numTasks: 2, r: 2, loraAlpha: 4 });
  assert.deepEqual(generator.layers.map((l) => [l.path, l.head]), [['0', '6x8'], ['1', '8x8'], ['2', '8x4']]);
  const params = generator.init(new Rng(2));
  const x = tf.randomNormal([5, 6], 0, 1, 'float32', 3);
  tf.tidy(() => {
    const factors = generator.loraParamsFor(params, 1);
    assert.deepEqual([...factors].map(([p, f]) => [p, f.a.shape, f.b.shape]), [['0', [2, 6], [8, 2]], ['1', [2, 8], [8, 2]], ['2', [2, 8], [4, 2]]]);
    const a0 = factors.get('0')!.a;
    const ratio = Math.sqrt(tf.moments(a0).variance.dataSync()[0]) / (1 / Math.sqrt(3 * 6));
    assert.ok(ratio > 0.4 && ratio < 2.5, `A at LoRA's init scale (ratio ${ratio.toFixed(2)})`);
    assert.equal(maxAbsDiff(generator.apply(params, baseParams, x, 0), model.apply(baseParams, x)), 0, 'B = 0 at init: the base itself');
  });

  // Train two regression tasks (different random targets) through the generator.
  for (const v of flatten(baseParams).values()) v.trainable = false; // a frozen base, as addAdapter leaves it
  const base0 = new Map([...flatten(baseParams)].map(([k, v]) => [k, Array.from(v.dataSync())]));
  const optimizer = adam({ lr: 0.01 });
  const variables = trainableVariables(params);
  const targets = [0, 1].map((t) => tf.randomNormal([5, 4], 0, 1, 'float32', 10 + t));
  for (let step = 0; step < 30; step++) {
    tf.tidy(() => {
      const task = step % 2;
      const { grads } = tf.variableGrads(() => tf.mean(tf.squaredDifference(generator.apply(params, baseParams, x, task), targets[task])) as tf.Scalar, variables);
      if (step === 1) for (const [p, v] of flatten(params)) if (p !== 'task_embs.0') assert.ok(grads[v.name] !== undefined && tf.any(tf.notEqual(grads[v.name], 0)).dataSync()[0] === 1, `${p} gets a non-zero gradient`);
      optimizer.step({ variables, grads: variables.map((v) => grads[v.name]) }, 0.01);
    });
  }
  for (const [k, v] of flatten(baseParams)) assert.deepEqual(Array.from(v.dataSync()), base0.get(k), `base ${k} unchanged`);
  const generated = [0, 1].map((t) => tf.keep(tf.tidy(() => generator.apply(params, baseParams, x, t))));
  assert.ok(maxAbsDiff(generated[0], generated[1]) > 1e-3, 'the two tasks get different adapters');

  // Materialise both tasks as LoRA adapters on the base; each reproduces the generator's forward; merge/unmerge keep it.
  for (const t of [0, 1]) materializeAdapter(generator, params, model, baseParams, t);
  for (const t of [0, 1]) {
    setActiveAdapters(model, [`task${t}`]);
    const y = tf.tidy(() => model.apply(baseParams, x));
    assert.ok(maxAbsDiff(y, generated[t]) < 1e-4, `task${t}: adapter = generator (${maxAbsDiff(y, generated[t])})`);
    merge(model, baseParams, [`task${t}`]);
    assert.ok(tf.tidy(() => maxAbsDiff(model.apply(baseParams, x), y)) < 1e-4, 'merged');
    unmerge(model, baseParams, [`task${t}`]);
    y.dispose();
  }
  // One PEFT adapter per task; load into a fresh copy of the base.
  for (const t of [0, 1]) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hyperlab-hyper-lora-'));
    saveAdapter(dir, model, baseParams, `task${t}`);
    assert.ok(fs.existsSync(path.join(dir, 'adapter_config.json')) && fs.existsSync(path.join(dir, 'adapter_model.safetensors')));
    const fresh = makeBase();
    loadAdapter(dir, fresh.model, fresh.params, `task${t}`);
    assert.ok(tf.tidy(() => maxAbsDiff(fresh.model.apply(fresh.params, x), generated[t])) < 1e-4, `task${t} loads back with the same outputs`);
    disposeParams(fresh.params);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  tf.dispose([x, ...targets, ...generated]);
  optimizer.dispose();
  disposeParams(params);
  disposeParams(baseParams);
});

testOnBackends('hyperLora: bad options throw naming the option', () => {
  const { model, params } = makeBase();
  assert.throws(() => hyperLora({ base: model, targetModules: ['9'], numTasks: 1 }), /hyperLora: targetModules .* matches no linear layer/);
  assert.throws(() => hyperLora({ base: model, targetModules: ['2'], numTasks: 1, r: 5 }), /r = 5 is larger than min\(in, out\) = 4 of layer '2'/);
  assert.throws(() => hyperLora({ base: model, targetModules: ['0'], numTasks: 0 }), /hyperLora: numTasks must be an integer ≥ 1/);
  const g = hyperLora({ base: model, targetModules: ['0'], numTasks: 1, r: 2 });
  const gp = g.init(new Rng(1));
  assert.throws(() => g.loraParamsFor(gp, 1), /task 1 is out of range \(numTasks = 1\)/);
  disposeParams(gp);
  disposeParams(params);
});
