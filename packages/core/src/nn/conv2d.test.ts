import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { testOnBackends } from '../testing/backends.js';
import { Rng } from '../random.js';
import { disposeParams, flatten, type Params } from '../params/params.js';
import { conv2d, type Conv2dArgs } from './conv2d.js';
import { initializers } from './init.js';
import { checkModuleGradients } from './gradcheck.js';

const GRAD_TOL = 2e-2;
const randn = (seed: number, shape: number[]): tf.Tensor => initializers.normal()(new Rng(seed), shape);

/** PyTorch semantics on NHWC data: y[n,i,j,o] = b[o] + Σ x[n, i·s + u·d − p, j·s + v·d − p, c] · W[o,c,u,v]. */
function referenceConv(x: tf.Tensor, params: Params, stride: number, pad: number, dilation: number): { data: number[]; shape: number[] } {
  const [N, H, W, C] = x.shape;
  const [O, , KH, KW] = (params.weight as tf.Tensor).shape;
  const xv = x.dataSync();
  const wv = (params.weight as tf.Tensor).dataSync();
  const bv = params.bias ? (params.bias as tf.Tensor).dataSync() : new Float32Array(O);
  const OH = Math.floor((H + 2 * pad - dilation * (KH - 1) - 1) / stride) + 1;
  const OW = Math.floor((W + 2 * pad - dilation * (KW - 1) - 1) / stride) + 1;
  const out: number[] = [];
  for (let n = 0; n < N; n++)
    for (let i = 0; i < OH; i++)
      for (let j = 0; j < OW; j++)
        for (let o = 0; o < O; o++) {
          let acc = bv[o];
          for (let c = 0; c < C; c++)
            for (let u = 0; u < KH; u++)
              for (let v = 0; v < KW; v++) {
                const r = i * stride + u * dilation - pad;
                const q = j * stride + v * dilation - pad;
                if (r >= 0 && r < H && q >= 0 && q < W) acc += xv[((n * H + r) * W + q) * C + c] * wv[((o * C + c) * KH + u) * KW + v];
              }
          out.push(acc);
        }
  return { data: out, shape: [N, OH, OW, O] };
}

testOnBackends('conv2d: output shapes for padding, stride and dilation', () => {
  const before = tf.memory().numTensors;
  const x = randn(1, [2, 8, 8, 3]);
  const cases: Array<[Partial<Conv2dArgs>, number[]]> = [
    [{}, [2, 6, 6, 5]],
    [{ padding: 'same' }, [2, 8, 8, 5]],
    [{ padding: 1 }, [2, 8, 8, 5]],
    [{ padding: [0, 1] }, [2, 6, 8, 5]],
    [{ stride: 2 }, [2, 3, 3, 5]],
    [{ stride: 2, padding: 'same' }, [2, 4, 4, 5]],
    [{ dilation: 2 }, [2, 4, 4, 5]],
    [{ kernelSize: [1, 3] }, [2, 8, 6, 5]],
    [{ bias: false }, [2, 6, 6, 5]],
  ];
  for (const [extra, shape] of cases) {
    const m = conv2d({ inChannels: 3, outChannels: 5, kernelSize: 3, ...extra });
    const params = m.init(new Rng(2));
    const y = m.apply(params, x);
    assert.deepEqual(y.shape, shape, JSON.stringify(extra));
    y.dispose();
    disposeParams(params);
  }
  const m = conv2d({ inChannels: 3, outChannels: 5, kernelSize: 3 });
  const params = m.init(new Rng(2));
  assert.deepEqual([...flatten(params)].map(([k, v]) => `${k}:${v.shape.join('x')}`), ['weight:5x3x3x3', 'bias:5']);
  const wrong = randn(1, [2, 8, 8, 4]);
  assert.throws(() => m.apply(params, wrong), /expected NHWC input \[batch, height, width, 3\]/);
  assert.throws(() => conv2d({ inChannels: 3, outChannels: 5, kernelSize: 3, stride: 2, dilation: 2 }), /not both/);
  tf.dispose([x, wrong]);
  disposeParams(params);
  assert.equal(tf.memory().numTensors, before);
});

testOnBackends('conv2d: values match a PyTorch-layout reference (padding, stride, dilation)', () => {
  const x = randn(1, [2, 7, 6, 3]);
  for (const [stride, pad, dilation] of [[1, 0, 1], [2, 1, 1], [1, 2, 2]]) {
    const m = conv2d({ inChannels: 3, outChannels: 4, kernelSize: [3, 2], stride, padding: pad, dilation });
    const params = m.init(new Rng(3));
    const y = m.apply(params, x);
    const ref = referenceConv(x, params, stride, pad, dilation);
    assert.deepEqual(y.shape, ref.shape);
    const yv = y.dataSync();
    for (let i = 0; i < ref.data.length; i++) assert.ok(Math.abs(yv[i] - ref.data[i]) < 1e-4, `stride ${stride} pad ${pad} dilation ${dilation} [${i}]`);
    y.dispose();
    disposeParams(params);
  }
  x.dispose();
});

testOnBackends('conv2d: PyTorch default init within ±1/√(in·kh·kw); deterministic', () => {
  const m = conv2d({ inChannels: 8, outChannels: 16, kernelSize: 3 });
  const [a, b] = [m.init(new Rng(1)), m.init(new Rng(1))];
  const bound = 1 / Math.sqrt(8 * 9);
  for (const key of ['weight', 'bias']) {
    const v = (a[key] as tf.Tensor).dataSync();
    assert.ok(v.every((e) => Math.abs(e) <= bound), key);
    assert.deepEqual((b[key] as tf.Tensor).dataSync(), v);
  }
  [a, b].forEach(disposeParams);
});

testOnBackends('conv2d: gradients match finite differences', () => {
  const before = tf.memory().numTensors;
  for (const [stride, padding] of [[1, 'valid'], [2, 1], [1, 'same']] as const) {
    const m = conv2d({ inChannels: 2, outChannels: 3, kernelSize: 3, stride, padding });
    const params = m.init(new Rng(1));
    const x = randn(2, [2, 5, 5, 2]);
    const results = checkModuleGradients(m, params, x, { maxPerTensor: 16 });
    assert.deepEqual(results.map((r) => r.name), ['weight', 'bias', 'input']);
    for (const r of results) assert.ok(r.relError < GRAD_TOL, `stride ${stride} padding ${padding}: ${JSON.stringify(r)}`);
    disposeParams(params);
    x.dispose();
  }
  assert.equal(tf.memory().numTensors, before);
});
