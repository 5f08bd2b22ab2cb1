/**
 * TEST FIXTURE, not part of the public API (keep it out of the package barrel): gradient configs
 * for the kernels the nn/ tests put on the tape, registered on import, each only where no gradient
 * is registered yet (so it never replaces the real ones).
 *
 * tfjs-core's CommonJS bundle registers no gradients; in the product, the backend setup
 * (`src/backend/gradients/register-gradients.ts`) registers the full set. The nn/ tests must not
 * depend on that code (as the train/ tests, see `train/gradient-fixtures.ts`), so they import this
 * file. The configs are ported from tfjs-core 4.22 `src/gradients/*_grad.ts` (Copyright 2020
 * Google LLC, Apache-2.0) with the same semantics; only the imports differ (public `tf.*` ops, and
 * `runKernel` for the conv backprop ops tfjs-core does not export).
 *
 * @internal
 */
import * as tf from '@tensorflow/tfjs-core';

type Saved = tf.Tensor[];

/** Sums `dy` over the axes broadcasting added to `shape`, then reshapes it to `shape`. */
function unbroadcast(dy: tf.Tensor, shape: number[], outShape: number[]): tf.Tensor {
  const axes = tf.broadcast_util.getReductionAxes(shape, outShape);
  return tf.reshape(axes.length > 0 ? tf.sum(dy, axes) : dy, shape);
}

function binaryShapes(saved: Saved): [tf.Tensor, tf.Tensor, number[]] {
  const [a, b] = saved;
  return [a, b, tf.broadcast_util.assertAndGetBroadcastShape(a.shape, b.shape)];
}

/** Expands a reduced `dy` back to `x`'s shape along the reduced axes. */
function expandReduced(dy: tf.Tensor, x: tf.Tensor, axis: number | number[]): tf.Tensor {
  const axes = tf.util.parseAxisParam(axis, x.shape);
  const expanded = x.shape.slice();
  for (const a of axes) expanded[a] = 1;
  return tf.mul(tf.reshape(dy, expanded), tf.ones(x.shape, 'float32'));
}

const asFloat = (t: tf.Tensor): tf.Tensor => tf.cast(t, 'float32');

/** The configs, by kernel. @internal */
export const NN_GRADIENT_CONFIGS: readonly tf.GradConfig[] = [
  {
    kernelName: tf.Add,
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved) => {
      const [a, b, out] = binaryShapes(saved);
      return { a: () => unbroadcast(dy as tf.Tensor, a.shape, out), b: () => unbroadcast(dy as tf.Tensor, b.shape, out) };
    },
  },
  {
    kernelName: tf.Sub,
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved) => {
      const [a, b, out] = binaryShapes(saved);
      return { a: () => unbroadcast(dy as tf.Tensor, a.shape, out), b: () => tf.neg(unbroadcast(dy as tf.Tensor, b.shape, out)) };
    },
  },
  {
    kernelName: tf.Multiply,
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved) => {
      const [a, b, out] = binaryShapes(saved);
      return {
        a: () => unbroadcast(tf.mul(dy as tf.Tensor, asFloat(b)), a.shape, out),
        b: () => unbroadcast(tf.mul(dy as tf.Tensor, asFloat(a)), b.shape, out),
      };
    },
  },
  {
    kernelName: tf.RealDiv,
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved) => {
      const [a, b, out] = binaryShapes(saved);
      return {
        a: () => unbroadcast(tf.div(dy as tf.Tensor, asFloat(b)), a.shape, out),
        b: () => tf.neg(tf.div(unbroadcast(tf.mul(dy as tf.Tensor, asFloat(a)), b.shape, out), asFloat(tf.square(b)))),
      };
    },
  },
  {
    kernelName: tf.SquaredDifference,
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved) => {
      const [a, b, out] = binaryShapes(saved);
      return {
        a: () => unbroadcast(tf.mul(dy as tf.Tensor, tf.mul(2, tf.sub(a, b))), a.shape, out),
        b: () => unbroadcast(tf.mul(dy as tf.Tensor, tf.mul(2, tf.sub(b, a))), b.shape, out),
      };
    },
  },
  { kernelName: tf.Neg, gradFunc: (dy) => ({ x: () => tf.neg(dy as tf.Tensor) }) },
  { kernelName: tf.Cast, gradFunc: (dy) => ({ x: () => tf.clone(dy as tf.Tensor) }) },
  { kernelName: tf.Identity, gradFunc: (dy) => ({ x: () => asFloat(dy as tf.Tensor) }) },
  {
    kernelName: tf.Reshape,
    inputsToSave: ['x'],
    gradFunc: (dy, [x]) => ({ x: () => tf.reshape(dy as tf.Tensor, x.shape) }),
  },
  {
    kernelName: tf.ExpandDims,
    inputsToSave: ['input'],
    gradFunc: (dy, [input]) => ({ input: () => tf.reshape(dy as tf.Tensor, input.shape) }),
  },
  {
    kernelName: tf.Transpose,
    gradFunc: (dy, _saved, attrs) => {
      const undo = tf.backend_util.getUndoAxesPermutation((attrs as unknown as tf.TransposeAttrs).perm);
      return { x: () => tf.transpose(dy as tf.Tensor, undo) };
    },
  },
  {
    kernelName: tf.BatchMatMul,
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, [a, b], attrs) => {
      const g = dy as tf.Tensor;
      const { transposeA, transposeB } = attrs as unknown as tf.BatchMatMulAttrs;
      if (!transposeA && !transposeB) return { a: () => tf.matMul(g, b, false, true), b: () => tf.matMul(a, g, true, false) };
      if (!transposeA && transposeB) return { a: () => tf.matMul(g, b, false, false), b: () => tf.matMul(g, a, true, false) };
      if (transposeA && !transposeB) return { a: () => tf.matMul(b, g, false, true), b: () => tf.matMul(a, g, false, false) };
      return { a: () => tf.matMul(b, g, true, true), b: () => tf.matMul(g, a, true, true) };
    },
  },
  {
    kernelName: tf.Sum,
    inputsToSave: ['x'],
    gradFunc: (dy, [x], attrs) => ({ x: () => expandReduced(dy as tf.Tensor, x, (attrs as unknown as tf.SumAttrs).axis) }),
  },
  {
    kernelName: tf.Mean,
    inputsToSave: ['x'],
    gradFunc: (dy, [x], attrs) => {
      const axis = (attrs as unknown as tf.MeanAttrs).axis;
      const axes = tf.util.parseAxisParam(axis, x.shape);
      const reduceSize = axes.reduce((n, a) => n * x.shape[a], 1);
      return { x: () => tf.div(expandReduced(dy as tf.Tensor, x, axis), reduceSize) };
    },
  },
  {
    kernelName: tf.Square,
    inputsToSave: ['x'],
    gradFunc: (dy, [x]) => ({ x: () => tf.mul(dy as tf.Tensor, tf.mul(asFloat(x), 2)) }),
  },
  {
    kernelName: tf.Sqrt,
    inputsToSave: ['x'],
    gradFunc: (dy, [x]) => ({ x: () => tf.div(dy as tf.Tensor, tf.mul(tf.sqrt(asFloat(x)), 2)) }),
  },
  {
    kernelName: tf.Rsqrt,
    inputsToSave: ['x'],
    gradFunc: (dy, [x]) => ({ x: () => tf.neg(tf.div(dy as tf.Tensor, tf.mul(tf.pow(x, 1.5), 2))) }),
  },
  {
    kernelName: tf.Exp,
    outputsToSave: [true],
    gradFunc: (dy, [y]) => ({ x: () => tf.mul(dy as tf.Tensor, y) }),
  },
  {
    kernelName: tf.Log,
    inputsToSave: ['x'],
    gradFunc: (dy, [x]) => ({ x: () => tf.div(dy as tf.Tensor, asFloat(x)) }),
  },
  {
    kernelName: tf.Relu,
    inputsToSave: ['x'],
    gradFunc: (dy, [x]) => ({ x: () => tf.mul(dy as tf.Tensor, asFloat(tf.step(x))) }),
  },
  {
    kernelName: tf.Tanh,
    outputsToSave: [true],
    gradFunc: (dy, [y]) => ({ x: () => tf.mul(tf.sub(1, tf.square(y)), dy as tf.Tensor) }),
  },
  {
    kernelName: tf.Sigmoid,
    outputsToSave: [true],
    gradFunc: (dy, [y]) => ({ x: () => tf.mul(dy as tf.Tensor, tf.mul(y, tf.sub(1, y))) }),
  },
  {
    kernelName: tf.Erf,
    inputsToSave: ['x'],
    gradFunc: (dy, [x]) => ({ x: () => tf.mul(dy as tf.Tensor, tf.mul(tf.exp(tf.neg(tf.square(x))), 2 / Math.sqrt(Math.PI))) }),
  },
  {
    kernelName: tf.Softmax,
    outputsToSave: [true],
    gradFunc: (dy, [y], attrs) => {
      const { dim } = attrs as unknown as tf.SoftmaxAttrs;
      const dyTimesY = tf.mul(dy as tf.Tensor, y);
      return { logits: () => tf.sub(dyTimesY, tf.mul(tf.sum(dyTimesY, [dim], true), y)) };
    },
  },
  {
    kernelName: tf.Select,
    inputsToSave: ['condition'],
    gradFunc: (dy, [condition]) => {
      const g = dy as tf.Tensor;
      return {
        condition: () => asFloat(tf.zerosLike(condition)),
        t: () => tf.mul(g, tf.cast(condition, g.dtype)),
        e: () => tf.mul(g, tf.cast(tf.logicalNot(condition), g.dtype)),
      };
    },
  },
  {
    kernelName: tf.Conv2D,
    inputsToSave: ['x', 'filter'],
    gradFunc: (dy, [x, filter], attrs) => {
      const { dilations, strides, pad, dataFormat, dimRoundingMode } = attrs as unknown as tf.Conv2DAttrs;
      if (!tf.backend_util.tupleValuesAreOne(dilations)) {
        throw new Error(`Gradient of conv2D: dilation rates greater than 1 are not supported by tfjs gradients (got ${String(dilations)})`);
      }
      return {
        x: () =>
          tf.engine().runKernel(tf.Conv2DBackpropInput, { dy: dy as tf.Tensor, filter }, {
            strides, pad, dataFormat, dimRoundingMode, inputShape: x.shape,
          } as unknown as tf.NamedAttrMap) as tf.Tensor,
        filter: () =>
          tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy: dy as tf.Tensor }, {
            strides, pad, dataFormat, dimRoundingMode, filterShape: filter.shape,
          } as unknown as tf.NamedAttrMap) as tf.Tensor,
      };
    },
  },
];

/**
 * Registers each of {@link NN_GRADIENT_CONFIGS} whose kernel has no gradient yet. Idempotent;
 * returns the kernel names it registered. @internal
 */
export function registerNnGradients(): string[] {
  const registered: string[] = [];
  for (const config of NN_GRADIENT_CONFIGS) {
    if (tf.getGradient(config.kernelName) == null) {
      tf.registerGradient(config);
      registered.push(config.kernelName);
    }
  }
  return registered;
}

registerNnGradients();
