import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { maxAbsDiff, testOnBackends } from '../testing/backends.js';
import { Rng } from '../random.js';
import { flatten, type Params } from '../params/params.js';
import { mlp } from '../nn/mlp.js';
import { addAdapter } from './framework.js';
import { loraConfig } from './lora.js';
import { addCordaAdapter, collectCovariances, cordaEigens, invertMatrix, preprocessCorda, type LayerCovariance } from './corda.js';
import { loadAdapter, saveAdapter } from './save.js';
import { truncatedSvd } from './svd.js';
import { baseOutput, checkTrainsOnlyAdapters, output, randn, smallConvNet } from './test-fixtures.js';

const SIZES = [6, 8, 4];
const at = (params: Params, p: string): tf.Variable => flatten(params).get(p)!;

function net(seed = 1): { model: ReturnType<typeof mlp>; params: Params } {
  const model = mlp({ sizes: SIZES });
  return { model, params: model.init(new Rng(seed)) };
}

/** Three calibration batches of 5 rows. */
const calibration = (): tf.Tensor[] => [0, 1, 2].map((i) => randn(20 + i, [5, 6]));

/** Σ over batches of (x/|max x|)ᵀ(x/|max x|) / batches, by hand in double precision. */
function covarianceByHand(batches: ArrayLike<number>[], n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (const x of batches) {
    const top = Math.abs(Math.max(...Array.from(x)));
    const rows = x.length / n;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < rows; k++) out[i * n + j] += (x[k * n + i] / top) * (x[k * n + j] / top);
  }
  return out.map((v) => v / batches.length);
}

/** Row-major product [m×k]·[k×n] in double. */
function matmul(a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) for (let t = 0; t < k; t++) out[i * n + j] += a[i * k + t] * b[t * n + j];
  return out;
}

testOnBackends('corda: collectCovariances records each targeted linear\'s input — (x/|max x|)ᵀ(x/|max x|) averaged over calls — and restores the model', () => {
  const { model, params } = net();
  const children = { ...model.children };
  const xs = calibration();
  const covs = collectCovariances(model, params, ['0', '1'], xs);
  assert.deepEqual({ ...model.children }, children);
  assert.equal(covs.get('0')!.calls, 3);
  const want0 = covarianceByHand(xs.map((x) => x.dataSync()), 6);
  assert.ok(maxAbsDiff(covs.get('0')!.covariance, want0) < 1e-5);
  // Layer 1 sees relu(layer 0).
  const hidden = xs.map((x) => tf.tidy(() => tf.relu(model.children['0'].apply(params['0'] as Params, x))).dataSync());
  assert.ok(maxAbsDiff(covs.get('1')!.covariance, covarianceByHand(hidden, 8)) < 1e-5);
  // A callback works too (PEFT's run_model), and a layer never called is an error.
  const again = collectCovariances(model, params, ['0'], () => xs.forEach((x) => tf.dispose(model.apply(params, x))));
  assert.ok(maxAbsDiff(again.get('0')!.covariance, want0) < 1e-5);
  assert.throws(() => collectCovariances(model, params, ['0'], []), /layer '0' was never called/);
  assert.throws(() => collectCovariances(model, params, ['0'], [tf.zeros([2, 6])]), /layer '0' got an input whose largest element is 0/);
  assert.throws(() => collectCovariances(model, params, ['9'], xs), /collectCovariances: targetModules \["9"\] matched no linear module/);
  tf.dispose(xs);
});

testOnBackends('corda: the decomposition is exact — W = Σ U·S·Vᵀ over all components, V = (Vh·C\'⁻¹)ᵀ; the damping makes C\' invertible', () => {
  const rng = new Rng(3);
  const [out, inF] = [5, 7];
  const w = Float64Array.from({ length: out * inF }, () => rng.normal());
  // A rank-deficient covariance (3 samples in 7 dimensions) needs the damping.
  const x = Float64Array.from({ length: 3 * inF }, () => rng.normal());
  const cov = matmul(Array.from({ length: inF * 3 }, (_, k) => x[(k % 3) * inF + Math.floor(k / 3)]), x, inF, 3, inF);
  const all = cordaEigens(w, out, inF, cov, 5, 'ipm');
  assert.equal(all.damp, 0.01);
  const rebuilt = new Float64Array(out * inF);
  for (let o = 0; o < out; o++) for (let i = 0; i < inF; i++) for (let k = 0; k < 5; k++) rebuilt[o * inF + i] += all.u[o * 5 + k] * all.s[k] * all.v[i * 5 + k];
  assert.ok(maxAbsDiff(rebuilt, w) < 1e-9, `W rebuilt to ${maxAbsDiff(rebuilt, w)}`);
  const kpm = cordaEigens(w, out, inF, cov, 2, 'kpm');
  assert.deepEqual(Array.from(kpm.s), Array.from(all.spectrum.slice(3)));
  const ipm = cordaEigens(w, out, inF, cov, 2, 'ipm');
  assert.deepEqual(Array.from(ipm.s), Array.from(all.spectrum.slice(0, 2)));
  const m = Float64Array.from({ length: 9 }, () => rng.normal());
  const inv = invertMatrix(m, 3)!;
  assert.ok(maxAbsDiff(matmul(m, inv, 3, 3, 3), [1, 0, 0, 0, 1, 0, 0, 0, 1]) < 1e-12);
  assert.equal(invertMatrix([1, 2, 2, 4], 2), undefined);
  assert.throws(() => cordaEigens(w, out, inF, new Float64Array(inF * inF), 2, 'ipm'), /the covariance is zero/);
});

for (const cordaMethod of ['ipm', 'kpm'] as const) {
  testOnBackends(`corda (${cordaMethod}): residual + s·B·A = W and the output is unchanged at init; the adapter holds the ${cordaMethod === 'ipm' ? 'largest' : 'smallest'} r components of W·C'; trains only A, B`, async () => {
    const { model, params } = net();
    const xs = calibration();
    const probe = randn(9, [4, 6]);
    const yBase = baseOutput(model, params, probe);
    const weights = new Map(['0', '1'].map((l) => [l, at(params, `${l}.weight`).dataSync().slice()]));
    const covs = collectCovariances(model, params, ['0', '1'], xs);
    const r = 3;
    const eigens = preprocessCorda(model, params, loraConfig({ r, loraAlpha: 6, initLoraWeights: 'corda', cordaConfig: { cordaMethod }, targetModules: ['0', '1'] }), covs);
    addAdapter(model, params, { method: 'lora', r, loraAlpha: 6, initLoraWeights: 'corda', cordaConfig: { cordaMethod }, targetModules: ['0', '1'] });
    assert.ok(maxAbsDiff(output(model, params, probe), yBase) < 1e-5, 'the model is unchanged at init');
    const scale = 6 / r;
    for (const [layer, [out, inF]] of [['0', [8, 6]], ['1', [4, 8]]] as const) {
      const a = at(params, `${layer}.lora_A.default.weight`).dataSync();
      const b = at(params, `${layer}.lora_B.default.weight`).dataSync();
      const delta = matmul(b, a, out, r, inF).map((v) => v * scale);
      const residual = at(params, `${layer}.weight`).dataSync();
      assert.ok(maxAbsDiff(delta.map((v, i) => v + residual[i]), weights.get(layer)!) < 1e-5, `layer ${layer}: residual + s·B·A ≠ W`);
      assert.ok(maxAbsDiff(residual, weights.get(layer)!) > 1e-3, `layer ${layer}: the base weight became the residual`);
      // C' = C + damp·mean(diag C)·I; the adapter's part of W·C' has the kept singular values.
      const cov = (covs.get(layer) as LayerCovariance).covariance;
      const e = eigens.get(layer)!;
      let meanDiag = 0;
      for (let i = 0; i < inF; i++) meanDiag += cov[i * inF + i] / inF;
      const fixed = Float64Array.from(cov, (v, k) => (k % (inF + 1) === 0 ? v + e.damp * meanDiag : v));
      const adapterPart = matmul(delta, fixed, out, inF, inF);
      const residualPart = matmul(residual, fixed, out, inF, inF);
      const spectrum = Array.from(e.spectrum);
      const kept = cordaMethod === 'ipm' ? spectrum.slice(0, r) : spectrum.slice(spectrum.length - r);
      const rest = cordaMethod === 'ipm' ? spectrum.slice(r) : spectrum.slice(0, spectrum.length - r);
      const sv = (mat: Float64Array, k: number): number[] => Array.from(truncatedSvd(mat, out, inF, k).s);
      const tol = 1e-4 * spectrum[0];
      sv(adapterPart, r).forEach((v, k) => assert.ok(Math.abs(v - kept[k]) < tol, `layer ${layer}: adapter σ${k} ${v} vs ${kept[k]}`));
      sv(residualPart, rest.length).forEach((v, k) => assert.ok(Math.abs(v - rest[k]) < tol, `layer ${layer}: residual σ${k} ${v} vs ${rest[k]}`));
      // And W·C' is the two parts: the spectrum is that of the covariance-weighted weight.
      assert.deepEqual(sv(matmul(weights.get(layer)!, fixed, out, inF, inF), spectrum.length).map((v) => v.toPrecision(5)), spectrum.map((v) => v.toPrecision(5)));
    }
    await checkTrainsOnlyAdapters(model, params, [8, 6], [8, 4]);
    tf.dispose([...xs, probe]);
  });
}

testOnBackends('corda: saved with PEFT\'s init_lora_weights "corda" and corda_config; loads onto the residual base with equal outputs; clear errors', () => {
  const { model, params } = net();
  const xs = calibration();
  addCordaAdapter(model, params, { r: 2, cordaConfig: { cordaMethod: 'kpm' }, targetModules: ['0', '1'] }, xs);
  for (const [p, v] of flatten(params)) if (p.includes('lora_')) v.assign(tf.mul(v, 1.5));
  const probe = randn(9, [4, 6]);
  const y = output(model, params, probe);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'corda-'));
  saveAdapter(dir, model, params);
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'adapter_config.json'), 'utf8'));
  assert.equal(json.init_lora_weights, 'corda');
  assert.equal(json.corda_config.corda_method, 'kpm');
  const fresh = net();
  for (const layer of ['0', '1']) at(fresh.params, `${layer}.weight`).assign(at(params, `${layer}.weight`));
  loadAdapter(dir, fresh.model, fresh.params);
  assert.ok(maxAbsDiff(output(fresh.model, fresh.params, probe), y) < 1e-6);
  fs.rmSync(dir, { recursive: true, force: true });
  // Errors.
  const other = net(2);
  assert.throws(() => addAdapter(other.model, other.params, { method: 'lora', r: 2, initLoraWeights: 'corda', targetModules: ['0'] }), /layer '0' has no CorDA components; run preprocessCorda/);
  preprocessCorda(other.model, other.params, { r: 2, initLoraWeights: 'corda', targetModules: ['0'] }, xs);
  assert.throws(() => addAdapter(other.model, other.params, { method: 'lora', r: 3, initLoraWeights: 'corda', targetModules: ['0'] }), /was preprocessed for r = 2, the config has r = 3/);
  assert.throws(() => addAdapter(other.model, other.params, { method: 'lora', targetModules: ['0'], cordaConfig: { cordaMethod: 'kpm' } }), /LoraConfig\.cordaConfig is set but initLoraWeights is true, not 'corda'/);
  assert.throws(() => loraConfig({ targetModules: ['0'], initLoraWeights: 'corda', cordaConfig: { cordaMethod: 'pca' } as never }), /LoraConfig\.cordaConfig must be an object \{ cordaMethod: 'ipm' \| 'kpm' \}/);
  assert.throws(() => preprocessCorda(other.model, other.params, { r: 2, targetModules: ['0'] }, xs), /preprocessCorda: LoraConfig\.initLoraWeights must be 'corda', got true/);
  const conv = smallConvNet();
  assert.throws(() => addAdapter(conv.model, conv.params, { method: 'lora', r: 1, initLoraWeights: 'corda', targetModules: ['0'] }), /initLoraWeights 'corda' supports linear layers only; '0' is conv2d/);
  tf.dispose([...xs, probe]);
});
