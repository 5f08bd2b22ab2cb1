import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { maxAbsDiff, testOnBackends } from '../testing/backends.js';
import { flatten, type Params } from '../params/params.js';
import { addAdapter } from './framework.js';
import { nolaConfig } from './nola.js';
import { trainableParameters } from './report.js';
import { adapterStateDict, loadAdapter, saveAdapter } from './save.js';
import { baseOutput, checkMergeRoundTrip, checkTrainsOnlyAdapters, output, randn, smallMlp } from './test-fixtures.js';

const at = (params: Params, p: string): tf.Variable => flatten(params).get(p)!;

testOnBackends('nola: identity at init (β = 0); frozen seeded bases per layer; only α, β train, numBasisA + numBasisB each', () => {
  const { model, params } = smallMlp();
  const x = randn(2, [3, 6]);
  const yBase = baseOutput(model, params, x);
  addAdapter(model, params, nolaConfig({ r: 2, numBasisA: 7, numBasisB: 3, targetModules: ['0', '1'] }));
  assert.equal(maxAbsDiff(yBase, output(model, params, x)), 0);
  assert.deepEqual(at(params, '0.nola_basis_A.default').shape, [7, 2, 6]);
  assert.deepEqual(at(params, '0.nola_basis_B.default').shape, [3, 5, 2]);
  assert.deepEqual(at(params, '1.nola_basis_A.default').shape, [7, 2, 5]);
  const trainable = [...flatten(params)].filter(([, v]) => v.trainable).map(([p]) => p);
  assert.deepEqual(trainable.sort(), ['0.nola_alpha.default', '0.nola_beta.default', '1.nola_alpha.default', '1.nola_beta.default']);
  assert.equal(trainableParameters(params).trainable, 2 * (7 + 3));
  // Bases within U(±1/√cols); the two layers draw different ones.
  const a0 = Array.from(at(params, '0.nola_basis_A.default').dataSync());
  assert.ok(a0.every((v) => Math.abs(v) <= 1 / Math.sqrt(6)));
  assert.ok(Array.from(at(params, '0.nola_basis_B.default').dataSync()).every((v) => Math.abs(v) <= 1 / Math.sqrt(2)));
  assert.notDeepEqual(a0.slice(0, 10), Array.from(at(params, '1.nola_basis_A.default').dataSync()).slice(0, 10));
  x.dispose();
});

testOnBackends('nola: forward s·x·(ΣαᵢAᵢ)ᵀ·(ΣβⱼBⱼ)ᵀ; merge/unmerge round trip; gradients only into α, β', async () => {
  const { model, params } = smallMlp();
  addAdapter(model, params, nolaConfig({ r: 3, numBasisA: 4, numBasisB: 5, loraAlpha: 6, targetModules: ['0', '1'] }));
  at(params, '0.nola_beta.default').assign(tf.tensor1d([0.5, -1, 2, 0.1, 0.3]));
  at(params, '1.nola_beta.default').assign(tf.tensor1d([1, 0, -1, 0.2, 0.7]));
  const x = randn(2, [3, 6]);
  const mix = (coefficients: number[], basisSet: number[][][]): tf.Tensor =>
    tf.tensor2d(basisSet[0].map((row, i) => row.map((_, j) => coefficients.reduce((sum, c, k) => sum + c * basisSet[k][i][j], 0))));
  const ref = tf.tidy(() => {
    const a = mix(Array.from(at(params, '0.nola_alpha.default').dataSync()), at(params, '0.nola_basis_A.default').arraySync() as number[][][]);
    const b = mix(Array.from(at(params, '0.nola_beta.default').dataSync()), at(params, '0.nola_basis_B.default').arraySync() as number[][][]);
    return tf.add(tf.add(tf.matMul(x, at(params, '0.weight'), false, true), at(params, '0.bias')), tf.mul(tf.matMul(tf.matMul(x, a, false, true), b, false, true), 6 / 3));
  });
  const y = tf.tidy(() => model.children!['0'].apply(params['0'] as never, x));
  assert.ok(maxAbsDiff(y, ref) < 1e-5, `${maxAbsDiff(y, ref)}`);
  checkMergeRoundTrip(model, params, x, ['0.weight', '1.weight']);
  await checkTrainsOnlyAdapters(model, params, [8, 6], [8, 4]);
  tf.dispose([x, y, ref]);
});

testOnBackends('nola: saved without the bases (the default), the coefficients and the seed reproduce the outputs exactly', () => {
  const { model, params } = smallMlp();
  const record = addAdapter(model, params, nolaConfig({ r: 2, numBasisA: 6, numBasisB: 6, projectionPrngKey: 5, targetModules: ['0', '1'] }));
  for (const [p, v] of flatten(params)) if (/nola_(alpha|beta)/.test(p)) v.assign(randn(p.length, v.shape));
  assert.deepEqual([...adapterStateDict(record).keys()].sort(), ['0.nola_alpha', '0.nola_beta', '1.nola_alpha', '1.nola_beta'].map((k) => `base_model.model.${k}`));
  const x = randn(2, [3, 6]);
  const y = output(model, params, x);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nola-'));
  saveAdapter(dir, model, params);
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'adapter_config.json'), 'utf8'));
  assert.equal(json.peft_type, 'NOLA');
  assert.equal(json.projection_prng_key, 5);
  const fresh = smallMlp();
  loadAdapter(dir, fresh.model, fresh.params);
  for (const p of ['0.nola_basis_A.default', '1.nola_basis_B.default']) assert.equal(maxAbsDiff(at(params, p), at(fresh.params, p)), 0);
  assert.equal(maxAbsDiff(y, output(fresh.model, fresh.params, x)), 0);
  // With saveProjection the bases are in the file too.
  const withBases = smallMlp();
  const saved = addAdapter(withBases.model, withBases.params, nolaConfig({ r: 2, numBasisA: 6, numBasisB: 6, saveProjection: true, targetModules: ['0'] }));
  assert.deepEqual([...adapterStateDict(saved).keys()].sort(), ['0.nola_alpha', '0.nola_basis_A', '0.nola_basis_B', '0.nola_beta'].map((k) => `base_model.model.${k}`));
  fs.rmSync(dir, { recursive: true, force: true });
  x.dispose();
});
