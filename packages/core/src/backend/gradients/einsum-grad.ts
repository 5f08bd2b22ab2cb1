/**
 * Gradient of `tf.einsum` — tfjs-core 4.22 has none (`tf.grad` through an einsum throws).
 *
 * For `out = einsum('A,B->C', a, b)` the gradient of operand `a` is `einsum('C,B->A′', dy, b)`,
 * where `A′` keeps the labels of `A` that also occur in `C` or `B` (in `A`'s order); labels that
 * occur only in `A` were summed away in the forward pass, so the gradient is broadcast back along
 * them. One operand: `einsum('C->A′', dy)` (a transpose), broadcast the same way. The gradients
 * are einsums themselves, so they run on every backend's `Einsum` kernel (HyperLab's on WASM).
 *
 * Labels of `B` that occur in neither `A′` nor `C` are summed out of `b` with `tf.sum` first, so
 * the gradient equation never has a label that occurs in one term only: the CPU backend's einsum
 * (tfjs 4.22) gives wrong shapes or throws for such equations (e.g. `'i,jk->ij'` returns `[1, j]`).
 */
import * as tf from '@tensorflow/tfjs-core';
import { parseEinsumTerms } from '../kernels/einsum.js';

/** Gradient config for the `Einsum` kernel (one or two operands). */
export const einsumGradConfig: tf.GradConfig = {
  kernelName: tf.Einsum,
  saveAllInputs: true,
  gradFunc: (dy, saved, attrs) => {
    const { equation } = attrs as unknown as tf.EinsumAttrs;
    const { inputs, output } = parseEinsumTerms(equation);
    const upstream = dy as tf.Tensor;
    const grads: Record<string, () => tf.Tensor> = {};
    inputs.forEach((term, i) => {
      grads[String(i)] = () => {
        const x = saved[i];
        const otherTerm = inputs.length === 2 ? inputs[1 - i] : undefined;
        const keep = [...term].filter((l) => output.includes(l) || (otherTerm?.includes(l) ?? false)).join('');
        let g: tf.Tensor;
        if (otherTerm !== undefined) {
          let other = saved[1 - i];
          const alone = [...otherTerm].map((l, axis) => (keep.includes(l) || output.includes(l) ? -1 : axis)).filter((a) => a >= 0);
          const otherKept = [...otherTerm].filter((l) => keep.includes(l) || output.includes(l)).join('');
          if (alone.length > 0) other = tf.sum(other, alone);
          g = tf.einsum(`${output},${otherKept}->${keep}`, upstream, other);
        } else g = keep === output ? tf.clone(upstream) : tf.einsum(`${output}->${keep}`, upstream);
        if (keep.length < term.length) {
          const shape = [...term].map((l, axis) => (keep.includes(l) ? x.shape[axis] : 1));
          g = tf.broadcastTo(tf.reshape(g, shape), x.shape);
        }
        return g;
      };
    });
    return grads;
  },
};
