/**
 * Magnitude-invariant parametrisation (MIP): Ortiz, Guttag & Dalca, "Magnitude Invariant
 * Parametrizations Improve Hypernetwork Learning", ICLR 2024, arXiv:2304.07645 (code:
 * github.com/JJGO/hyperlight). Two changes to a hypernetwork:
 *
 * 1. **Input encoding** `"cos|sin"` (hyperlight's `hypernet/encoding.py`): each input z becomes
 *    the pair `[cos(πz/2), sin(πz/2)]`, which has unit L2 norm, so the encoded input's norm is
 *    √(input width) whatever the values (the width doubles). The paper's inputs are hyperparameters
 *    in [0, 1], where the map is one-to-one; the norm stays constant for any z.
 * 2. **Residual output** θ = θ0 + Δθ(z): θ0 are learnable independent weights initialised like the
 *    target's own init (hyperlight stores them as the bias of the last layer, initialised by the
 *    primary network's init), Δθ is the hypernetwork's output, initialised small (hyperlight's
 *    kaiming-normal fan-out). Here θ0 is a Params subtree `theta0.<target names>` (see `hypernet.ts`).
 */
import * as tf from '@tensorflow/tfjs-core';

/** How much wider the `"cos|sin"` encoding makes an input. */
export const MIP_ENCODING_MULTIPLIER = 2;

/**
 * The `"cos|sin"` encoding of `z` `[..., n]`: `[..., 2n]`, the n cosines cos(πz/2) then the n
 * sines sin(πz/2) (hyperlight concatenates the two halves the same way).
 */
export function cosSinEncoding(z: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const angle = tf.mul(z, Math.PI / 2);
    return tf.concat([tf.cos(angle), tf.sin(angle)], -1);
  });
}
