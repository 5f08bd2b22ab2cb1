import * as tf from '@tensorflow/tfjs-core';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../random.js';
import { useBackend } from '../../testing/backends.js';
import { registerBackends } from '../backend.js';
import { assertNoLeaks, assertSameOnBackends, computeOn, maxScaledDiff, randomInts, randomValues } from './cross-backend.js';

registerBackends();
const rng = new Rng('einsum');

/** Equations with operand shapes; the first five are the ones training code uses most. */
const cases: Array<{ equation: string; shapes: number[][] }> = [
  { equation: 'ij,jk->ik', shapes: [[5, 7], [7, 3]] },
  { equation: 'bij,bjk->bik', shapes: [[4, 5, 6], [4, 6, 3]] },
  { equation: 'ij->ji', shapes: [[4, 6]] },
  { equation: 'i,i->', shapes: [[9], [9]] },
  { equation: 'bhqd,bhkd->bhqk', shapes: [[2, 3, 5, 8], [2, 3, 6, 8]] },
  { equation: 'ij->i', shapes: [[4, 6]] },
  { equation: 'ij->', shapes: [[4, 6]] },
  { equation: 'ijk->kij', shapes: [[2, 3, 4]] },
  { equation: 'i,j->ij', shapes: [[4], [5]] },
  { equation: 'bi,bi->b', shapes: [[6, 5], [6, 5]] },
  { equation: 'ij,ij->ij', shapes: [[3, 4], [3, 4]] },
  { equation: 'ji,jk->ik', shapes: [[7, 5], [7, 3]] },
  { equation: 'ij,kj->ik', shapes: [[5, 7], [3, 7]] },
  { equation: 'ij,jk->ki', shapes: [[5, 7], [7, 3]] },
  { equation: 'ij,j->i', shapes: [[5, 7], [7]] },
  { equation: 'i,ij->j', shapes: [[5], [5, 7]] },
  { equation: 'ab,cd->abcd', shapes: [[2, 3], [4, 2]] },
  { equation: 'abc,cd->abd', shapes: [[2, 3, 4], [4, 5]] },
  { equation: 'bqhd,bkhd->bhqk', shapes: [[2, 4, 3, 5], [2, 6, 3, 5]] },
  { equation: 'ijk,jl->ilk', shapes: [[2, 3, 4], [3, 5]] },
  { equation: 'ij,jk->i', shapes: [[5, 7], [7, 3]] },
  { equation: ' ij , jk -> ik ', shapes: [[2, 3], [3, 2]] },
  // Large enough per matrix for the matrix-by-matrix product path (see batchMatMulFast).
  { equation: 'bhqd,bhkd->bhqk', shapes: [[2, 2, 24, 16], [2, 2, 24, 16]] },
  { equation: 'bij,bjk->bik', shapes: [[3, 24, 20], [3, 20, 20]] },
];

test('Einsum is HyperLab-provided on wasm', () => {
  assert.ok(tf.getKernel(tf.Einsum, 'wasm'));
});

for (const { equation, shapes } of cases) {
  const data = shapes.map((s) => randomValues(rng, s));
  const operands = (): tf.Tensor[] => shapes.map((s, i) => tf.tensor(data[i], s));
  test(`einsum '${equation}' wasm = cpu, and its gradient`, async () => {
    await assertSameOnBackends(`einsum ${equation}`, () => tf.einsum(equation, ...operands()));
    const out = tf.tidy(() => tf.einsum(equation, ...shapes.map((s) => tf.zeros(s))).shape);
    const weights = randomValues(rng, out);
    await assertSameOnBackends(`einsum ${equation} gradient`, () =>
      tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(tf.einsum(equation, ...xs), tf.tensor(weights, out))))(operands()),
    );
  });
}

test('einsum gradients equal the closed forms (matmul, attention scores, dot, transpose, sum)', async () => {
  const a = randomValues(rng, [5, 7]);
  const b = randomValues(rng, [7, 3]);
  const r = randomValues(rng, [5, 3]);
  const q = randomValues(rng, [2, 3, 5, 8]);
  const k = randomValues(rng, [2, 3, 6, 8]);
  const s = randomValues(rng, [2, 3, 5, 6]);
  for (const backend of ['wasm', 'cpu'] as const) {
    const [gotA, gotB, wantA, wantB, gotQ, gotK, wantQ, wantK, gotDot, wantDot, gotT, wantT, gotSum, wantSum] = await computeOn(backend, () => {
      const [A, B, R] = [tf.tensor2d(a, [5, 7]), tf.tensor2d(b, [7, 3]), tf.tensor2d(r, [5, 3])];
      const [Q, K, S] = [tf.tensor4d(q, [2, 3, 5, 8]), tf.tensor4d(k, [2, 3, 6, 8]), tf.tensor4d(s, [2, 3, 5, 6])];
      const v = tf.tensor1d(b.subarray(0, 7));
      return [
        ...tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.einsum('ij,jk->ik', x, y), R)))([A, B]),
        tf.matMul(R, B, false, true),
        tf.matMul(A, R, true, false),
        ...tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.einsum('bhqd,bhkd->bhqk', x, y), S)))([Q, K]),
        tf.matMul(S, K),
        tf.matMul(S, Q, true, false),
        tf.grad((x: tf.Tensor) => tf.einsum('i,i->', x, v))(tf.tensor1d(a.subarray(0, 7))),
        v,
        tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.einsum('ij->ji', x), tf.tensor2d(r, [3, 5]))))(tf.slice(A, [0, 0], [5, 3])),
        tf.transpose(tf.tensor2d(r, [3, 5])),
        tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.einsum('ij->i', x), tf.tensor1d(r.subarray(0, 5)))))(A),
        tf.tile(tf.reshape(tf.tensor1d(r.subarray(0, 5)), [5, 1]), [1, 7]),
      ];
    });
    const pairs: Array<[string, typeof gotA, typeof gotA]> = [
      ['ij,jk->ik dA', gotA, wantA],
      ['ij,jk->ik dB', gotB, wantB],
      ['bhqd,bhkd->bhqk dQ', gotQ, wantQ],
      ['bhqd,bhkd->bhqk dK', gotK, wantK],
      ['i,i-> da', gotDot, wantDot],
      ['ij->ji dA', gotT, wantT],
      ['ij->i dA', gotSum, wantSum],
    ];
    for (const [label, got, want] of pairs) {
      assert.deepEqual(got.shape, want.shape, `${backend} ${label} shape`);
      assert.ok(maxScaledDiff(got.values, want.values) <= 1e-5, `${backend} ${label} values`);
    }
  }
});

// The CPU backend gets these wrong (tfjs 4.22): 'ij->ij' returns its input tensor itself (so the
// gradient doubles and disposing the result disposes the input); 'ik,jl->ij' (a label alone in each
// operand) throws. On WASM, check them against closed forms.
test('einsum on wasm where the cpu kernel is wrong: identity and labels alone in each operand', async () => {
  const x = randomValues(rng, [3, 4]);
  const y = randomValues(rng, [5, 2]);
  const w = randomValues(rng, [3, 4]);
  const [identity, identityGrad, outer, outerWant, inputKept] = await computeOn('wasm', () => {
    const X = tf.tensor2d(x, [3, 4]);
    const Y = tf.tensor2d(y, [5, 2]);
    const id = tf.einsum('ij->ij', X);
    const grad = tf.grad((p: tf.Tensor) => tf.sum(tf.mul(tf.einsum('ij->ij', p), tf.tensor2d(w, [3, 4]))))(X);
    const o = tf.einsum('ik,jl->ij', X, Y);
    const want = tf.mul(tf.reshape(tf.sum(X, 1), [3, 1]), tf.reshape(tf.sum(Y, 1), [1, 5]));
    id.dispose();
    return [tf.einsum('ij->ij', X), grad, o, want, X];
  });
  assert.deepEqual(Array.from(identity.values), Array.from(x));
  assert.deepEqual(Array.from(inputKept.values), Array.from(x), 'disposing the identity result kept the input');
  assert.ok(maxScaledDiff(identityGrad.values, w) <= 1e-6);
  assert.deepEqual(outer.shape, [3, 5]);
  assert.ok(maxScaledDiff(outer.values, outerWant.values) <= 1e-5);
  const [outerGrad, outerGradWant] = await computeOn('wasm', () => [
    tf.grad((p: tf.Tensor) => tf.sum(tf.einsum('ik,jl->ij', p, tf.tensor2d(y, [5, 2]))))(tf.tensor2d(x, [3, 4])),
    tf.fill([3, 4], y.reduce((a, b) => a + b, 0)),
  ]);
  assert.ok(maxScaledDiff(outerGrad.values, outerGradWant.values) <= 1e-5);
  const z = randomValues(rng, [3, 2, 4]);
  const [summed, summedWant] = await computeOn('wasm', () => {
    const Z = tf.tensor3d(z, [3, 2, 4]);
    const X = tf.tensor2d(x, [4, 3]);
    return [tf.einsum('ijk,kl->il', Z, X), tf.matMul(tf.sum(Z, 1), X)];
  });
  assert.ok(maxScaledDiff(summed.values, summedWant.values) <= 1e-5);
});

test("einsum on wasm does not seed BatchMatMul's weight cache with the caller's buffer", async () => {
  // tfjs-backend-wasm caches packed matmul weights by buffer id, whatever the shape: had the first
  // einsum multiplied by w's own buffer, the second (w under another shape) would read stale
  // packed weights out of bounds.
  const w = randomValues(rng, [4, 6]);
  await assertSameOnBackends('same buffer, two shapes', () => {
    const W = tf.tensor2d(w, [4, 6]);
    const first = tf.einsum('ij,jk->ik', tf.ones([3, 4]), W);
    const second = tf.einsum('ij,jk->ik', tf.ones([2, 6]), tf.reshape(W, [6, 4]));
    return [first, second];
  });
});

test('einsum on int32 operands: wasm = cpu', async () => {
  const a = randomInts(rng, 12, -5, 5);
  const b = randomInts(rng, 12, -5, 5);
  await assertSameOnBackends('int32 einsum', () => tf.einsum('ij,jk->ik', tf.tensor2d(a, [3, 4], 'int32'), tf.tensor2d(b, [4, 3], 'int32')));
  await assertSameOnBackends('int32 einsum unary', () => tf.einsum('ij->j', tf.tensor2d(a, [3, 4], 'int32')));
  await assertSameOnBackends('int32 batched einsum', () =>
    tf.einsum('bij,bjk->bik', tf.tensor3d(a, [2, 3, 2], 'int32'), tf.tensor3d(b, [2, 2, 3], 'int32')),
  );
  const f = randomValues(rng, [4, 3]);
  await assertSameOnBackends('int32 x float32 einsum', () => tf.einsum('ij,jk->ik', tf.tensor2d(a, [3, 4], 'int32'), tf.tensor2d(f, [4, 3])));
});

test('einsum rejects what tfjs rejects, on wasm as on cpu', async () => {
  for (const backend of ['wasm', 'cpu'] as const) {
    await useBackend(backend);
    const x = tf.ones([3, 3]);
    assert.throws(() => tf.einsum('ii->i', x), /duplicate axes/, backend);
    assert.throws(() => tf.einsum('ij,jk,kl->il', x, x, x), /more than 2 input tensors/, backend);
    assert.throws(() => tf.einsum('ij,jk', x, x), /without an arrow/, backend);
    assert.throws(() => tf.einsum('ij,jk->ik', x, tf.ones([4, 2])), /Expected dimension/, backend);
    x.dispose();
  }
});

test('einsum on wasm (forward and gradient) leaks no tensors or buffers', async () => {
  const q = randomValues(rng, [2, 3, 5, 8]);
  const k = randomValues(rng, [2, 3, 6, 8]);
  for (const equation of ['bhqd,bhkd->bhqk', 'ij,jk->i']) {
    const shapes = equation === 'ij,jk->i' ? [[5, 8], [8, 6]] : [[2, 3, 5, 8], [2, 3, 6, 8]];
    await assertNoLeaks('wasm', () => tf.einsum(equation, tf.tensor(q.subarray(0, 40 * (shapes[0].length === 2 ? 1 : 6)), shapes[0]), tf.tensor(k.subarray(0, 48 * (shapes[1].length === 2 ? 1 : 6)), shapes[1])));
  }
  await assertNoLeaks('wasm', () =>
    tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.einsum('bhqd,bhkd->bhqk', x, y)))([tf.tensor4d(q, [2, 3, 5, 8]), tf.tensor4d(k, [2, 3, 6, 8])]),
  );
  await assertNoLeaks('wasm', () => tf.einsum('ij->ij', tf.tensor2d(q.subarray(0, 6), [2, 3])));
  const big = randomValues(rng, [2, 2, 24, 16]);
  await assertNoLeaks('wasm', () => tf.einsum('bhqd,bhkd->bhqk', tf.tensor4d(big, [2, 2, 24, 16]), tf.tensor4d(big, [2, 2, 24, 16])));
  await assertNoLeaks('wasm', () => tf.einsum('ij,jk->ik', tf.tensor2d(randomInts(rng, 6, -3, 3), [2, 3], 'int32'), tf.tensor2d(randomInts(rng, 6, -3, 3), [3, 2], 'int32')));
});
