import * as tf from '@tensorflow/tfjs-core';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../random.js';
import { registerBackends } from '../backend.js';
import { conv2DBackpropFilterLimits } from './conv2d-backprop-filter.js';
import { assertNoLeaks, assertSameOnBackends, computeOn, maxScaledDiff, randomValues } from './cross-backend.js';

registerBackends();
const rng = new Rng('conv2d-backprop-filter');

type Pad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;
interface ConvCase {
  x: [number, number, number, number];
  filter: [number, number, number, number];
  strides: number | [number, number];
  pad: Pad;
  dataFormat?: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

const kernelCases: ConvCase[] = [
  { x: [2, 7, 7, 3], filter: [3, 3, 3, 4], strides: 1, pad: 'same' },
  { x: [2, 7, 7, 3], filter: [3, 3, 3, 4], strides: 2, pad: 'same' },
  { x: [2, 8, 6, 3], filter: [3, 2, 3, 5], strides: 1, pad: 'valid' },
  { x: [2, 9, 9, 2], filter: [3, 3, 2, 4], strides: 2, pad: 'valid' },
  { x: [1, 6, 6, 2], filter: [3, 3, 2, 2], strides: [2, 1], pad: 1 },
  { x: [1, 7, 5, 2], filter: [2, 3, 2, 3], strides: 2, pad: [[0, 0], [1, 2], [0, 1], [0, 0]] },
  { x: [1, 8, 8, 2], filter: [3, 3, 2, 2], strides: 2, pad: 1, dimRoundingMode: 'ceil' },
  { x: [2, 5, 5, 8], filter: [1, 1, 8, 6], strides: 1, pad: 'valid' },
  { x: [2, 3, 7, 7], filter: [3, 3, 3, 4], strides: 1, pad: 'same', dataFormat: 'NCHW' },
  { x: [1, 2, 9, 8], filter: [3, 3, 2, 3], strides: 2, pad: 'valid', dataFormat: 'NCHW' },
];

function describeCase(c: ConvCase): string {
  return `x [${c.x}] filter [${c.filter}] strides ${JSON.stringify(c.strides)} pad ${JSON.stringify(c.pad)} ${c.dataFormat ?? 'NHWC'}${c.dimRoundingMode ? ` ${c.dimRoundingMode}` : ''}`;
}

function convInfo(c: ConvCase, dilations: number | [number, number] = 1): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    c.x,
    c.filter,
    c.strides,
    dilations,
    c.pad,
    c.dimRoundingMode,
    false,
    tf.backend_util.convertConv2DDataFormat(c.dataFormat ?? 'NHWC'),
  );
}

function dyShape(c: ConvCase): number[] {
  const info = convInfo(c);
  return c.dataFormat === 'NCHW' ? [info.batchSize, info.outChannels, info.outHeight, info.outWidth] : info.outShape;
}

function backpropFilter(c: ConvCase, xs: Float32Array, dys: Float32Array): () => tf.Tensor {
  return () =>
    tf.engine().runKernel(
      tf.Conv2DBackpropFilter,
      { x: tf.tensor4d(xs, c.x), dy: tf.tensor(dys, dyShape(c)) },
      { strides: c.strides, pad: c.pad, dataFormat: c.dataFormat ?? 'NHWC', dimRoundingMode: c.dimRoundingMode, filterShape: c.filter } as unknown as tf.NamedAttrMap,
    ) as tf.Tensor;
}

test('Conv2DBackpropFilter is HyperLab-provided on wasm; Conv2DBackpropInput is native there', () => {
  assert.ok(tf.getKernel(tf.Conv2DBackpropFilter, 'wasm'));
  assert.ok(tf.getKernel(tf.Conv2DBackpropInput, 'wasm'));
});

for (const c of kernelCases) {
  test(`Conv2DBackpropFilter wasm = cpu: ${describeCase(c)}`, async () => {
    const xs = randomValues(rng, c.x);
    const dys = randomValues(rng, dyShape(c));
    await assertSameOnBackends('Conv2DBackpropFilter', backpropFilter(c, xs, dys));
  });
}

test('Conv2DBackpropFilter on wasm: chunked patch matrices give the same result', async () => {
  const c = kernelCases[1];
  const xs = randomValues(rng, c.x);
  const dys = randomValues(rng, dyShape(c));
  const [whole] = await computeOn('wasm', backpropFilter(c, xs, dys));
  const saved = conv2DBackpropFilterLimits.maxPatchElements;
  conv2DBackpropFilterLimits.maxPatchElements = 100; // 27-wide rows: 3 positions per chunk
  try {
    const [chunked] = await computeOn('wasm', backpropFilter(c, xs, dys));
    assert.ok(maxScaledDiff(chunked.values, whole.values) <= 1e-5);
  } finally {
    conv2DBackpropFilterLimits.maxPatchElements = saved;
  }
});

for (const c of kernelCases.filter((k) => k.dataFormat !== 'NCHW')) {
  test(`Conv2DBackpropInput (native wasm) = cpu: ${describeCase(c)}`, async () => {
    const ws = randomValues(rng, c.filter);
    const dys = randomValues(rng, dyShape(c));
    await assertSameOnBackends('Conv2DBackpropInput', () =>
      tf.engine().runKernel(
        tf.Conv2DBackpropInput,
        { dy: tf.tensor(dys, dyShape(c)), filter: tf.tensor4d(ws, c.filter) },
        { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: c.dimRoundingMode, inputShape: c.x } as unknown as tf.NamedAttrMap,
      ) as tf.Tensor,
    );
  });
}

/** Plain-loop reference gradients of `sum(conv2d(x, w) * r)` (NHWC) with respect to x and w. */
function referenceGrads(c: ConvCase, dilation: number, xs: Float32Array, ws: Float32Array, rs: Float32Array): [Float32Array, Float32Array] {
  const info = convInfo(c, dilation);
  const [n, h, w, cin] = c.x;
  const [fh, fw, , cout] = c.filter;
  const { outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;
  const dx = new Float32Array(xs.length);
  const dw = new Float32Array(ws.length);
  for (let b = 0; b < n; b++)
    for (let y = 0; y < oh; y++)
      for (let x = 0; x < ow; x++)
        for (let i = 0; i < fh; i++)
          for (let j = 0; j < fw; j++) {
            const iy = y * sh - top + i * dilation;
            const ix = x * sw - left + j * dilation;
            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
            for (let ch = 0; ch < cin; ch++)
              for (let o = 0; o < cout; o++) {
                const r = rs[((b * oh + y) * ow + x) * cout + o];
                dw[((i * fw + j) * cin + ch) * cout + o] += xs[((b * h + iy) * w + ix) * cin + ch] * r;
                dx[((b * h + iy) * w + ix) * cin + ch] += ws[((i * fw + j) * cin + ch) * cout + o] * r;
              }
          }
  return [dx, dw];
}

const gradCases: Array<ConvCase & { dilation: number }> = [
  { x: [2, 8, 8, 3], filter: [3, 3, 3, 4], strides: 1, pad: 'same', dilation: 1 },
  { x: [2, 8, 8, 3], filter: [3, 3, 3, 4], strides: 2, pad: 'same', dilation: 1 },
  { x: [2, 8, 8, 3], filter: [3, 3, 3, 4], strides: 1, pad: 'valid', dilation: 1 },
  { x: [2, 9, 9, 3], filter: [3, 3, 3, 4], strides: 2, pad: 'valid', dilation: 1 },
  { x: [2, 9, 9, 3], filter: [3, 3, 3, 4], strides: 1, pad: 'same', dilation: 2 },
  { x: [2, 9, 10, 3], filter: [3, 2, 3, 4], strides: 1, pad: 'valid', dilation: 2 },
  { x: [1, 8, 8, 2], filter: [2, 3, 2, 3], strides: 1, pad: 2, dilation: 2 },
];

for (const c of gradCases) {
  test(`conv2d gradients wasm = cpu = plain loops: ${describeCase(c)} dilation ${c.dilation}`, async () => {
    const xs = randomValues(rng, c.x);
    const ws = randomValues(rng, c.filter);
    const info = convInfo(c, c.dilation);
    const rs = randomValues(rng, info.outShape);
    const grads = (): tf.Tensor[] => {
      const r = tf.tensor4d(rs, info.outShape);
      const loss = (x: tf.Tensor4D, w: tf.Tensor4D): tf.Scalar =>
        tf.sum(tf.mul(tf.conv2d(x, w, c.strides, c.pad as 'same', 'NHWC', c.dilation), r));
      return tf.grads((x: tf.Tensor, w: tf.Tensor) => loss(x as tf.Tensor4D, w as tf.Tensor4D))([tf.tensor4d(xs, c.x), tf.tensor4d(ws, c.filter)]);
    };
    const [dx, dw] = await assertSameOnBackends('conv2d grads', grads);
    const [refDx, refDw] = referenceGrads(c, c.dilation, xs, ws, rs);
    assert.ok(maxScaledDiff(dx.values, refDx) <= 1e-5, 'input gradient differs from the plain loops');
    assert.ok(maxScaledDiff(dw.values, refDw) <= 1e-5, 'filter gradient differs from the plain loops');
  });
}

test('conv2d training step on wasm leaks no tensors or buffers', async () => {
  const xs = randomValues(rng, [2, 8, 8, 3]);
  const ws = randomValues(rng, [3, 3, 3, 4]);
  for (const dilation of [1, 2]) {
    await assertNoLeaks('wasm', () =>
      tf.grads((x: tf.Tensor, w: tf.Tensor) => tf.sum(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same', 'NHWC', dilation)))([
        tf.tensor4d(xs, [2, 8, 8, 3]),
        tf.tensor4d(ws, [3, 3, 3, 4]),
      ]),
    );
  }
  await assertNoLeaks('wasm', backpropFilter(kernelCases[8], randomValues(rng, kernelCases[8].x), randomValues(rng, dyShape(kernelCases[8]))));
});
