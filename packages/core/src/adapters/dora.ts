/**
 * DoRA: weight-decomposed low-rank adaptation.
 *
 * Paper: Shih-Yang Liu, Chien-Yi Wang, Hongxu Yin, Pavlo Molchanov, Yu-Chiang Frank Wang,
 * Kwang-Ting Cheng, Min-Hung Chen (2024), "DoRA: Weight-Decomposed Low-Rank Adaptation",
 * arXiv:2402.09353.
 *
 * The adapted weight is split into a magnitude m (one value per output feature) and a direction
 * updated by LoRA (`lora.ts`):
 *
 *   W' = m · (W + ΔW) / ‖W + ΔW‖,   ΔW = s·B·A,   ‖·‖ the L2 norm of each output row
 *
 * (the paper's column-wise norm: its W is `[in, out]`, ours `[out, in]`). m starts as ‖W + ΔW‖ (=
 * ‖W‖ with the default zero B), so the model equals the base at init. As the paper suggests
 * (section 4.3), the norm is treated as a constant in the backward pass (stop-gradient), which
 * saves memory without hurting accuracy. With f = m / ‖W + ΔW‖ the forward is
 *
 *   y = base(x) + (f − 1)·(x·Wᵀ) + f·s·dropout(x)·Aᵀ·Bᵀ
 *
 * where x·Wᵀ is the base output without bias (computed on the dropped-out input when dropout is
 * active in training). Merging sets W ← f·(W + ΔW) (f is kept to unmerge).
 *
 * PEFT has no separate DoRA config: it is `LoraConfig(use_dora=True)`, and saves with
 * `peft_type: "LORA"`, `use_dora: true`. Here `{ method: 'lora', useDora: true }` and
 * `{ method: 'dora' }` (or {@link doraConfig}) are the same thing. Linear layers only.
 *
 * Params: LoRA's plus `<layer>.lora_magnitude_vector.<name>` `[out]` (saved as PEFT's
 * `…lora_magnitude_vector`). Trainable count per layer: r·(in + out) + out.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Params } from '../params/params.js';
import { variable } from '../params/params.js';
import { linearForward } from '../nn/linear.js';
import { dropout } from '../nn/activations.js';
import { validateConfig } from './config.js';
import type { AdapterInstance, AdapterMethod } from './method.js';
import { assignTo, stopGradient, tensorAt } from './param-paths.js';
import { checkLoraRank, initLoraLeaves, loraBranch, loraDelta, loraFromPeft, loraSchema, loraToPeft, type LoraConfig, type LoraConfigInput } from './lora.js';

/** DoRA's configuration: LoRA's fields with `useDora: true`. */
export interface DoraConfig extends Omit<LoraConfig, 'method' | 'useDora'> {
  method: 'dora';
  useDora: true;
}

/** A validated DoRA config. */
export function doraConfig(input: LoraConfigInput): DoraConfig {
  return validateConfig<DoraConfig>('LoraConfig', loraSchema('dora'), { method: 'dora', ...input, useDora: true });
}

/** Per-row L2 norm of W + ΔW, `[out]`. */
function directionNorm(inst: AdapterInstance<any>, params: Params): tf.Tensor {
  const weight = tensorAt(params, 'weight', 'dora');
  return tf.tidy(() => tf.sqrt(tf.sum(tf.square(tf.add(weight, loraDelta(inst, params))), 1)));
}

function magnitude(params: Params, name: string): tf.Tensor {
  return tensorAt(params, `lora_magnitude_vector.${name}`, 'dora');
}

/** The DoRA method. */
export const dora: AdapterMethod<DoraConfig> = {
  name: 'dora',
  configName: 'LoraConfig',
  description: 'DoRA: LoRA on the direction of each weight with a trained magnitude (Liu et al. 2024)',
  peftType: 'LORA',
  supportedKinds: ['linear'],
  mergeable: true,
  paramKeys: ['lora_A', 'lora_B', 'lora_magnitude_vector'],
  schema: loraSchema('dora'),
  checkLayer: (config, layer) => checkLoraRank('LoraConfig', config.r, layer, config.initLoraWeights),
  init(ctx) {
    const made = initLoraLeaves(ctx as never);
    const { layer, params, name } = ctx;
    const inst = { name, layer, config: ctx.config, state: made.state } as unknown as AdapterInstance<any>;
    const tmp: Params = {
      weight: params.weight,
      lora_A: { [name]: { weight: made.leaves[`lora_A.${name}.weight`] } },
      lora_B: { [name]: { weight: made.leaves[`lora_B.${name}.weight`] } },
    };
    const m = directionNorm(inst, tmp);
    return { leaves: { ...made.leaves, [`lora_magnitude_vector.${name}`]: variable(m, `${layer.path}.lora_magnitude_vector.${name}`) }, state: made.state };
  },
  transformOutput(inst, params, x, y, yBase, ctx) {
    return tf.tidy(() => {
      const factor = tf.div(magnitude(params, inst.name), stopGradient(directionNorm(inst, params))); // [out]
      const rate = inst.config.loraDropout;
      const dropping = ctx?.training === true && rate > 0;
      const xd = dropping ? dropout(x, rate, ctx) : x;
      const weight = tensorAt(params, 'weight', 'dora');
      const bias = params.bias as tf.Tensor | undefined;
      const baseTerm = dropping ? linearForward(xd, weight) : bias !== undefined ? tf.sub(yBase, bias) : yBase;
      const lora = loraBranch(inst as never, params, x, ctx, xd);
      return tf.add(y, tf.add(tf.mul(tf.sub(factor, 1), baseTerm), tf.mul(factor, lora)));
    });
  },
  merge(inst, params) {
    const weight = tensorAt(params, 'weight', 'dora') as tf.Variable;
    const factor = tf.tidy(() => tf.div(magnitude(params, inst.name), directionNorm(inst, params)));
    (inst.state.mergedFactor as tf.Tensor | undefined)?.dispose();
    inst.state.mergedFactor = tf.keep(factor);
    assignTo(weight, () => tf.mul(tf.add(weight, loraDelta(inst as never, params)), tf.expandDims(factor, 1)));
  },
  unmerge(inst, params) {
    const weight = tensorAt(params, 'weight', 'dora') as tf.Variable;
    const factor = inst.state.mergedFactor as tf.Tensor;
    assignTo(weight, () => tf.sub(tf.div(weight, tf.expandDims(factor, 1)), loraDelta(inst as never, params)));
    factor.dispose();
    delete inst.state.mergedFactor;
  },
  toPeft: (config) => loraToPeft(config as unknown as LoraConfig),
  fromPeft: loraFromPeft,
};
