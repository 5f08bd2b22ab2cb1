import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { maxAbsDiff, testOnBackends } from '../testing/backends.js';
import { flatten } from '../params/params.js';
import { decodeSafetensors, encodeSafetensors } from '../io/safetensors.js';
import { addAdapter, listAdapters } from './framework.js';
import { loadAdapter, saveAdapter } from './save.js';
import { output, randn, smallMlp } from './test-fixtures.js';

const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'hyperlab-adapter-'));

const cases: Array<{ name: string; config: Record<string, unknown>; peftType: string; keys: string[]; json: Record<string, unknown> }> = [
  {
    name: 'lora',
    config: { method: 'lora', r: 2, loraAlpha: 4, targetModules: ['0', '1'], bias: 'lora_only', modulesToSave: [] },
    peftType: 'LORA',
    keys: ['base_model.model.0.bias', 'base_model.model.0.lora_A.weight', 'base_model.model.0.lora_B.weight', 'base_model.model.1.bias', 'base_model.model.1.lora_A.weight', 'base_model.model.1.lora_B.weight'],
    json: { r: 2, lora_alpha: 4, target_modules: ['0', '1'], bias: 'lora_only', use_dora: false, use_rslora: false, init_lora_weights: true, lora_dropout: 0, modules_to_save: null },
  },
  {
    name: 'lora + modulesToSave',
    config: { method: 'lora', r: 2, targetModules: '0', modulesToSave: ['1'] },
    peftType: 'LORA',
    keys: ['base_model.model.0.lora_A.weight', 'base_model.model.0.lora_B.weight', 'base_model.model.1.bias', 'base_model.model.1.weight'],
    json: { target_modules: '0', modules_to_save: ['1'] },
  },
  {
    name: 'dora',
    config: { method: 'dora', r: 2, targetModules: ['0'] },
    peftType: 'LORA',
    keys: ['base_model.model.0.lora_A.weight', 'base_model.model.0.lora_B.weight', 'base_model.model.0.lora_magnitude_vector'],
    json: { use_dora: true },
  },
  {
    name: 'vera',
    config: { method: 'vera', r: 4, targetModules: ['0', '1'] },
    peftType: 'VERA',
    keys: ['base_model.model.0.vera_lambda_b', 'base_model.model.0.vera_lambda_d', 'base_model.model.1.vera_lambda_b', 'base_model.model.1.vera_lambda_d', 'base_model.vera_A', 'base_model.vera_B'],
    json: { r: 4, projection_prng_key: 0, save_projection: true, d_initial: 0.1 },
  },
  {
    name: 'ia3',
    config: { method: 'ia3', targetModules: ['0', '1'], feedforwardModules: ['1'] },
    peftType: 'IA3',
    keys: ['base_model.model.0.ia3_l', 'base_model.model.1.ia3_l'],
    json: { target_modules: ['0', '1'], feedforward_modules: ['1'] },
  },
];

testOnBackends('save/load: PEFT layout and an exact round trip for every method', () => {
  for (const c of cases) {
    const dir = tmp();
    const a = smallMlp(1);
    addAdapter(a.model, a.params, c.config, 'mine');
    // Give every trainable leaf non-trivial values, as training would.
    let seed = 100;
    for (const v of flatten(a.params).values()) if (v.trainable) v.assign(randn(seed++, v.shape));
    saveAdapter(dir, a.model, a.params, 'mine', { baseModelNameOrPath: 'hyperlab/small-mlp' });
    const json = JSON.parse(fs.readFileSync(path.join(dir, 'adapter_config.json'), 'utf8'));
    assert.equal(json.peft_type, c.peftType, c.name);
    assert.equal(json.task_type, null);
    assert.equal(json.base_model_name_or_path, 'hyperlab/small-mlp');
    for (const [k, v] of Object.entries(c.json)) assert.deepEqual(json[k], v, `${c.name}: ${k}`);
    const { tensors, metadata } = decodeSafetensors(new Uint8Array(fs.readFileSync(path.join(dir, 'adapter_model.safetensors'))));
    assert.deepEqual([...tensors.keys()].sort(), c.keys, c.name);
    assert.equal(metadata.format, 'pt');
    tf.dispose([...tensors.values()]);

    const b = smallMlp(1);
    loadAdapter(dir, b.model, b.params, 'other');
    const fa = flatten(a.params);
    const fb = flatten(b.params);
    assert.deepEqual([...fb.keys()].map((k) => k.replace('.other', '.mine')).sort(), [...fa.keys()].sort(), c.name);
    for (const [k, v] of fb) assert.equal(maxAbsDiff(v, fa.get(k.replace('.other', '.mine'))!), 0, `${c.name}: ${k}`);
    for (const [k, v] of fb) assert.equal(v.trainable, fa.get(k.replace('.other', '.mine'))!.trainable, `${c.name}: trainable ${k}`);
    const x = randn(7, [3, 6]);
    assert.equal(maxAbsDiff(output(a.model, a.params, x), output(b.model, b.params, x)), 0, c.name);
    x.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

testOnBackends('load: names every missing and unexpected key in one error and leaves the model unchanged', () => {
  const dir = tmp();
  const a = smallMlp(1);
  addAdapter(a.model, a.params, { method: 'lora', r: 2, targetModules: ['0', '1'] });
  saveAdapter(dir, a.model, a.params);
  const file = path.join(dir, 'adapter_model.safetensors');
  const { tensors } = decodeSafetensors(new Uint8Array(fs.readFileSync(file)));
  const extra = tf.zeros([3]);
  const tampered = new Map([...tensors].filter(([k]) => !k.startsWith('base_model.model.1.lora_B')));
  tampered.set('base_model.model.2.lora_A.weight', extra);
  fs.writeFileSync(file, encodeSafetensors(tampered));
  const b = smallMlp(1);
  const keys = [...flatten(b.params).keys()];
  assert.throws(
    () => loadAdapter(dir, b.model, b.params),
    /missing keys: base_model\.model\.1\.lora_B\.weight\. unexpected keys: base_model\.model\.2\.lora_A\.weight/,
  );
  assert.deepEqual([...flatten(b.params).keys()], keys);
  assert.equal(listAdapters(b.model).length, 0);
  assert.equal(b.model.children!['0'].kind, 'linear');
  assert.ok([...flatten(b.params).values()].every((v) => v.trainable));
  // A config that does not fit the model fails naming the layer.
  const cfg = path.join(dir, 'adapter_config.json');
  fs.writeFileSync(cfg, JSON.stringify({ ...JSON.parse(fs.readFileSync(cfg, 'utf8')), r: 9 }));
  assert.throws(() => loadAdapter(dir, b.model, b.params), /r = 9 is larger than min\(in, out\) = 5 of layer '0'/);
  tf.dispose([extra, ...tensors.values()]);
  fs.rmSync(dir, { recursive: true, force: true });
});
