/**
 * Installs every gradient HyperLab trains with: tfjs-core's own (see `tfjs-gradients.ts` for why
 * they must be loaded by hand under CommonJS) plus HyperLab's additions — `Einsum` (tfjs has none),
 * a `Conv2D` gradient that supports dilations, and a `Relu` gradient that is one op on tfjs-node.
 */
import * as tf from '@tensorflow/tfjs-core';
import { conv2DGradConfig } from './conv2d-grad.js';
import { einsumGradConfig } from './einsum-grad.js';
import { registerReluGradKernel, reluGradConfig } from './relu-grad.js';
import { registerTfjsGradients, type GradientInstallReport } from './tfjs-gradients.js';

/** What {@link registerGradients} did. */
export interface GradientsReport {
  /** tfjs-core's gradients. */
  tfjs: GradientInstallReport;
  /** HyperLab's gradients now active, by kernel name. */
  hyperlab: string[];
  /** Kernels where a gradient from elsewhere was kept instead of HyperLab's. */
  kept: string[];
}

/** HyperLab gradients: `replace` ones supersede tfjs's (same results where tfjs's works). */
const HYPERLAB_GRADIENTS: ReadonlyArray<{ config: tf.GradConfig; replace: boolean }> = [
  { config: einsumGradConfig, replace: false },
  { config: conv2DGradConfig, replace: true },
  { config: reluGradConfig, replace: true },
];

/** Registers tfjs-core's gradients where missing, then HyperLab's. Idempotent. */
export function registerGradients(): GradientsReport {
  const tfjs = registerTfjsGradients();
  return { tfjs, ...registerHyperLabGradients() };
}

/**
 * (Re-)registers HyperLab's gradients over tfjs's where they supersede them. Also called after
 * `@tensorflow/tfjs-node` loads: its `@tensorflow/tfjs` bundle registers its own copy of every
 * tfjs gradient, replacing HyperLab's `Conv2D` one (which handles dilations).
 */
export function registerHyperLabGradients(): Pick<GradientsReport, 'hyperlab' | 'kept'> {
  registerReluGradKernel();
  const hyperlab: string[] = [];
  const kept: string[] = [];
  for (const { config, replace } of HYPERLAB_GRADIENTS) {
    const existing = tf.getGradient(config.kernelName);
    if (existing === config) {
      hyperlab.push(config.kernelName);
      continue;
    }
    if (existing != null && !replace) {
      kept.push(config.kernelName);
      continue;
    }
    if (existing != null) tf.unregisterGradient(config.kernelName);
    tf.registerGradient(config);
    hyperlab.push(config.kernelName);
  }
  return { hyperlab, kept };
}
