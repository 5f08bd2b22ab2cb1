/**
 * Gradient of `tf.relu` that is one kernel on the native backend. tfjs's own gradient is
 * `dy · step(x)`, and tfjs-node's `Step` kernel is a composite of five TensorFlow ops (`IsNan`,
 * `Greater`, `Fill`, `Select` twice), so each ReLU's backward pass cost six native calls and five
 * full-size intermediates (~1.2 ms per 256×512 ReLU on the dev machine). On `tensorflow` this
 * config runs TensorFlow's own `ReluGrad` op (`dy` where `x > 0`, else 0) through the
 * `HyperLabReluGrad` kernel; elsewhere it computes exactly tfjs's `dy · step(x)`.
 */
import * as tf from '@tensorflow/tfjs-core';

/** HyperLab's kernel {dy, x} → dy where x > 0, else 0 (registered for `tensorflow`). */
export const RELU_GRAD = 'HyperLabReluGrad';

/** The part of tfjs-node's backend this kernel uses. */
interface NativeBackend {
  binding: { TF_ATTR_TYPE: number; TF_FLOAT: number };
  executeSingleOutput(name: string, attrs: unknown[], inputs: tf.TensorInfo[]): tf.TensorInfo;
}

const reluGradNative: tf.KernelFunc = ({ inputs, backend }) => {
  const be = backend as unknown as NativeBackend;
  const { dy, x } = inputs as { dy: tf.TensorInfo; x: tf.TensorInfo };
  return be.executeSingleOutput('ReluGrad', [{ name: 'T', type: be.binding.TF_ATTR_TYPE, value: be.binding.TF_FLOAT }], [dy, x]);
};

// ReluGrad is linear in dy with the same mask; its derivative in x is 0 almost everywhere.
const reluGradGrad: tf.GradConfig = {
  kernelName: RELU_GRAD,
  inputsToSave: ['x'],
  gradFunc: (g, [x]) => ({
    dy: () => tf.engine().runKernel(RELU_GRAD, { dy: g as tf.Tensor, x }) as tf.Tensor,
    x: () => tf.zerosLike(x),
  }),
};

/** Registers {@link RELU_GRAD} for tfjs-node's backend, and its gradient. Idempotent. */
export function registerReluGradKernel(): void {
  if (tf.getKernel(RELU_GRAD, 'tensorflow') == null) tf.registerKernel({ kernelName: RELU_GRAD, backendName: 'tensorflow', kernelFunc: reluGradNative });
  if (tf.getGradient(RELU_GRAD) == null) tf.registerGradient(reluGradGrad);
}

/** Gradient config for the `Relu` kernel. */
export const reluGradConfig: tf.GradConfig = {
  kernelName: tf.Relu,
  inputsToSave: ['x'],
  gradFunc: (dy, saved) => {
    const [x] = saved;
    const g = dy as tf.Tensor;
    if (x.dtype === 'float32' && g.dtype === 'float32' && tf.getKernel(RELU_GRAD, tf.getBackend()) != null) {
      return { x: () => tf.engine().runKernel(RELU_GRAD, { dy: g, x }) as tf.Tensor };
    }
    return { x: () => tf.mul(g, tf.cast(tf.step(x), 'float32')) };
  },
};
