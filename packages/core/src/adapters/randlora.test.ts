import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { maxAbsDiff, testOnBackends } from '../testing/backends.js';
import { flatten, type Params } from '../params/params.js';
import { Rng } from '../random.js';
import { mlp } from '../nn/mlp.js';
import { addAdapter, deleteAdapter } from './framework.js';
import { randloraConfig, randloraTrainableCount } from './randlora.js';
import { trainableParameters } from './report.js';
import { adapterStateDict, loadAdapter, saveAdapter } from './save.js';
import { baseOutput, checkMergeRoundTrip, checkTrainsOnlyAdapters, output, randn } from './test-fixtures.js';

/** mlp 4 → 7 → 3: layer '0' has in < out, layer '1' in > out. */
function net(seed = 1): { model: ReturnType<typeof mlp>; params: Params } {
  const model = mlp({ sizes: [4, 7, 3] });
  return { model, params: model.init(new Rng(seed)) };
}

const at = (params: Params, p: string): tf.Variable => flatten(params).get(p)!;

testOnBackends('randlora: identity at init; shared bases [r, 1, d_max], [D_max, n_max, r] aliased per layer; only λ, γ train, r·n + n·d each', () => {
  const { model, params } = net();
  const x = randn(2, [3, 4]);
  const yBase = baseOutput(model, params, x);
  const record = addAdapter(model, params, randloraConfig({ r: 2, targetModules: ['0', '1'] }));
  assert.equal(maxAbsDiff(yBase, output(model, params, x)), 0);
  // Largest (out, in) over the targets: (7, 7) → d_max = D_max = 7, n_max = ⌈7/2⌉ = 4.
  assert.deepEqual(at(params, 'randlora_A.default').shape, [2, 1, 7]);
  assert.deepEqual(at(params, 'randlora_B.default').shape, [7, 4, 2]);
  assert.equal(at(params, '0.randlora_A.default'), at(params, 'randlora_A.default'));
  assert.equal(at(params, '1.randlora_B.default'), at(params, 'randlora_B.default'));
  // Layer 0: d = 4, n = 2 → λ [2, 2], γ [2, 4]; layer 1: d = 3, n = 2 → λ [2, 2], γ [2, 3].
  assert.deepEqual(at(params, '0.randlora_lambda.default').shape, [2, 2]);
  assert.deepEqual(at(params, '1.randlora_gamma.default').shape, [2, 3]);
  assert.deepEqual(Array.from(at(params, '0.randlora_gamma.default').dataSync()), new Array(8).fill(Math.fround(1 / 4)));
  const trainable = [...flatten(params)].filter(([, v]) => v.trainable).map(([p]) => p);
  assert.deepEqual(trainable.sort(), ['0.randlora_gamma.default', '0.randlora_lambda.default', '1.randlora_gamma.default', '1.randlora_lambda.default']);
  assert.equal(trainableParameters(params).trainable, randloraTrainableCount({ inFeatures: 4, outFeatures: 7 }, 2) + randloraTrainableCount({ inFeatures: 7, outFeatures: 3 }, 2));
  assert.equal(trainableParameters(params).trainable, 2 * 2 + 2 * 4 + (2 * 2 + 2 * 3));
  assert.deepEqual(
    [...adapterStateDict(record).keys()].sort(),
    ['base_model.model.0.randlora_A', 'base_model.model.0.randlora_B', 'base_model.model.0.randlora_gamma', 'base_model.model.0.randlora_lambda', 'base_model.model.1.randlora_A', 'base_model.model.1.randlora_B', 'base_model.model.1.randlora_gamma', 'base_model.model.1.randlora_lambda', 'base_model.randlora_A', 'base_model.randlora_B'],
  );
  // Each basis tensor has unit (unbiased) standard deviation.
  for (const key of ['randlora_A.default', 'randlora_B.default']) {
    const v = Array.from(at(params, key).dataSync());
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    assert.ok(Math.abs(Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1)) - 1) < 1e-5);
  }
  deleteAdapter(model, params, 'default');
  assert.deepEqual([...flatten(params).keys()], ['0.weight', '0.bias', '1.weight', '1.bias']);
  x.dispose();
});

testOnBackends('randlora: forward is PEFT\'s U_B·U_A (in ≤ out) / its transpose (in > out) times α/r; merge/unmerge; gradients only into λ, γ', async () => {
  const { model, params } = net();
  const r = 2;
  addAdapter(model, params, randloraConfig({ r, randloraAlpha: 3, targetModules: ['0', '1'], initWeights: false }));
  const x = randn(2, [3, 4]);
  const A = at(params, 'randlora_A.default').arraySync() as number[][][];
  const B = at(params, 'randlora_B.default').arraySync() as number[][][];
  // ΔW from the definition, index by index: U_B[o][j·r + q] = B[o][j][q], U_A[q·n + j][i] = λ[q][j]·A[q][0][i]·γ[j][i].
  const delta = (layer: string, inF: number, outF: number): tf.Tensor => {
    const lambda = at(params, `${layer}.randlora_lambda.default`).arraySync() as number[][];
    const gamma = at(params, `${layer}.randlora_gamma.default`).arraySync() as number[][];
    const [d, D] = [Math.min(inF, outF), Math.max(inF, outF)];
    const n = Math.ceil(d / r);
    const m = Array.from({ length: D }, (_, o) =>
      Array.from({ length: d }, (_, i) => {
        let sum = 0;
        for (let k = 0; k < n * r; k++) {
          const [jB, qB] = [Math.floor(k / r), k % r];
          const [qA, jA] = [Math.floor(k / n), k % n];
          sum += B[o][jB][qB] * lambda[qA][jA] * A[qA][0][i] * gamma[jA][i];
        }
        return (sum * 3) / r;
      }),
    );
    const t = tf.tensor2d(m);
    return inF <= outF ? t : tf.transpose(t);
  };
  for (const [layer, inF, outF] of [['0', 4, 7], ['1', 7, 3]] as const) {
    const xin = randn(5, [3, inF]);
    const y = tf.tidy(() => model.children![layer].apply(params[layer] as never, xin));
    const ref = tf.tidy(() => tf.add(tf.matMul(xin, tf.add(at(params, `${layer}.weight`), delta(layer, inF, outF)), false, true), at(params, `${layer}.bias`)));
    assert.ok(maxAbsDiff(y, ref) < 1e-4, `layer ${layer}: ${maxAbsDiff(y, ref)}`);
    tf.dispose([xin, y, ref]);
  }
  checkMergeRoundTrip(model, params, x, ['0.weight', '1.weight']);
  await checkTrainsOnlyAdapters(model, params, [8, 4], [8, 3]);
  x.dispose();
});

testOnBackends('randlora: bases regenerate bit-identically from projectionPrngKey; saveProjection false saves only λ, γ and reloads exactly', () => {
  const { model, params } = net();
  addAdapter(model, params, randloraConfig({ r: 3, saveProjection: false, targetModules: ['0', '1'] }));
  for (const [p, v] of flatten(params)) if (/randlora_(lambda|gamma)/.test(p)) v.assign(randn(p.length, v.shape));
  const x = randn(2, [3, 4]);
  const y = output(model, params, x);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'randlora-'));
  saveAdapter(dir, model, params);
  assert.deepEqual(Object.keys(JSON.parse(fs.readFileSync(path.join(dir, 'adapter_config.json'), 'utf8'))).includes('randlora_alpha'), true);
  const fresh = net();
  const record = loadAdapter(dir, fresh.model, fresh.params);
  assert.deepEqual([...adapterStateDict(record).keys()].sort(), ['0.randlora_gamma', '0.randlora_lambda', '1.randlora_gamma', '1.randlora_lambda'].map((k) => `base_model.model.${k}`));
  assert.equal(maxAbsDiff(at(params, 'randlora_B.default'), at(fresh.params, 'randlora_B.default')), 0);
  assert.equal(maxAbsDiff(y, output(fresh.model, fresh.params, x)), 0);
  // Another key, other bases.
  const other = net();
  addAdapter(other.model, other.params, randloraConfig({ r: 3, projectionPrngKey: 1, targetModules: ['0', '1'] }));
  assert.ok(maxAbsDiff(at(params, 'randlora_A.default'), at(other.params, 'randlora_A.default')) > 0.1);
  fs.rmSync(dir, { recursive: true, force: true });
  x.dispose();
});

testOnBackends('randlora: sparse bases are ternary, P(±1) ≈ 1/6 each; verySparse ≈ 1/(2√d) each', () => {
  const model = mlp({ sizes: [64, 64] });
  for (const [options, nonzero] of [[{ sparse: true }, 1 / 3], [{ verySparse: true }, 1 / 8]] as const) {
    const params = model.init(new Rng(1));
    const m = mlp({ sizes: [64, 64] });
    addAdapter(m, params, randloraConfig({ r: 4, ...options, targetModules: ['0'] }));
    const values = Array.from(at(params, 'randlora_B.default').dataSync());
    const levels = [...new Set(values)].sort((a, b) => a - b);
    assert.equal(levels.length, 3);
    assert.equal(levels[1], 0);
    assert.equal(levels[0], -levels[2]);
    const fraction = values.filter((v) => v !== 0).length / values.length;
    assert.ok(Math.abs(fraction - nonzero) < 0.03, `${JSON.stringify(options)}: non-zero fraction ${fraction}`);
  }
});
