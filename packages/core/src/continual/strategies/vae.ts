/**
 * A variational autoencoder for generative replay (Kingma & Welling 2014, "Auto-Encoding
 * Variational Bayes", arXiv:1312.6114), shaped as van de Ven & Tolias's (2019) `AutoEncoder`
 * (`vae_models.py`): an encoder MLP `[in, …hidden]` with ReLUs, linear heads to the latent mean
 * and log-variance (`mu`, `logvar`), a decoder MLP `[z, …reversed hidden, in]` with ReLUs between
 * layers and a sigmoid on the pixels.
 *
 * `apply(params, x, ctx)` returns `[n, in + 2z]`: the reconstruction's logits, then μ, then
 * log σ². In training the latent is sampled, z = μ + σ·ε with ε from `ctx.rng`; in inference
 * z = μ. {@link vaeLoss} is the negative ELBO per pixel as van de Ven's (`average: true`): the
 * binary cross-entropy of the reconstruction averaged over pixels plus the KL divergence to
 * N(0, I) divided by the number of pixels, weighted per row.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../../random.js';
import type { Params } from '../../params/params.js';
import type { ApplyContext, Module } from '../../nn/module.js';
import { initChildren } from '../../nn/module.js';
import { mlp } from '../../nn/mlp.js';
import { linear } from '../../nn/linear.js';
import { paramChild } from '../../nn/param-lookup.js';
import type { LossFn } from '../../train/losses.js';

/** Arguments of {@link vae}. */
export interface VaeArgs {
  /** Features per example (784). */
  inputSize: number;
  /** Hidden widths of the encoder (the decoder mirrors them). Default [400, 400]. */
  hidden?: number[];
  /** Latent size. Default 100 (van de Ven's `--g-z-dim`). */
  zDim?: number;
}

/** A VAE module. */
export interface VaeModule extends Module {
  /** Always `'vae'`. */
  readonly kind: 'vae';
  /** `encoder`, `mu`, `logvar`, `decoder`. */
  readonly children: Record<string, Module>;
  /** Features per example. */
  readonly inputSize: number;
  /** Latent size. */
  readonly zDim: number;
  /** Pixel probabilities for latents `z` `[n, zDim]`. */
  decode(params: Params, z: tf.Tensor): tf.Tensor;
}

/** Builds a VAE (see the file comment). */
export function vae(args: VaeArgs): VaeModule {
  const { inputSize, hidden = [400, 400], zDim = 100 } = args;
  if (hidden.length === 0) throw new Error('vae: hidden needs at least one width');
  const top = hidden[hidden.length - 1];
  const children: Record<string, Module> = {
    encoder: mlp({ sizes: [inputSize, ...hidden] }),
    mu: linear({ inFeatures: top, outFeatures: zDim }),
    logvar: linear({ inFeatures: top, outFeatures: zDim }),
    decoder: mlp({ sizes: [zDim, ...[...hidden].reverse(), inputSize] }),
  };
  const names = Object.keys(children);
  const decodeLogits = (params: Params, z: tf.Tensor): tf.Tensor => children.decoder.apply(paramChild(params, 'decoder', 'vae'), z);
  return {
    kind: 'vae',
    children,
    inputSize,
    zDim,
    init: (rng: Rng) => initChildren(children, names, rng),
    apply(params: Params, x: tf.Tensor, ctx?: ApplyContext): tf.Tensor {
      return tf.tidy(() => {
        const h = tf.relu(children.encoder.apply(paramChild(params, 'encoder', 'vae'), x, ctx));
        const mu = children.mu.apply(paramChild(params, 'mu', 'vae'), h);
        const logvar = children.logvar.apply(paramChild(params, 'logvar', 'vae'), h);
        let z = mu;
        if (ctx?.training) {
          // ε given with the batch (extras.vaeNoise, drawn as below by the data loop: then the
          // step builds no random constant and compiles on the native backend), or drawn here.
          const given = ctx.extras?.vaeNoise;
          if (given === undefined && !ctx.rng) throw new Error('vae: training needs ctx.rng (for the latent noise)');
          const eps = given ?? tf.randomNormal(mu.shape, 0, 1, 'float32', ctx.rng!.seedInt());
          z = tf.add(mu, tf.mul(tf.exp(tf.mul(logvar, 0.5)), eps));
        }
        return tf.concat([decodeLogits(params, z), mu, logvar], 1);
      });
    },
    decode: (params, z) => tf.tidy(() => tf.sigmoid(decodeLogits(params, z))),
  };
}

/** `n` samples (pixel probabilities, `n × inputSize`) from the prior through the decoder. */
export async function sampleVae(model: VaeModule, params: Params, n: number, rng: Rng): Promise<Float32Array> {
  const out = tf.tidy(() => model.decode(params, tf.randomNormal([n, model.zDim], 0, 1, 'float32', rng.seedInt())));
  try {
    return (await out.data()) as Float32Array;
  } finally {
    out.dispose();
  }
}

/**
 * The negative ELBO per pixel (see the file comment). Targets `y` are `[n, inputSize + 1]`: the
 * input pixels in [0, 1] and the row's weight (the loss is Σ weight·(recon + KL)).
 */
export function vaeLoss(inputSize: number, zDim: number): LossFn {
  return (output, y) =>
    tf.tidy(() => {
      const n = output.shape[0];
      const logits = tf.slice(output, [0, 0], [n, inputSize]);
      const mu = tf.slice(output, [0, inputSize], [n, zDim]);
      const logvar = tf.slice(output, [0, inputSize + zDim], [n, zDim]);
      const x = tf.slice(y, [0, 0], [n, inputSize]);
      const weight = tf.reshape(tf.slice(y, [0, inputSize], [n, 1]), [n]);
      // Stable BCE on logits: max(l, 0) − l·x + log(1 + exp(−|l|)).
      const bce = tf.add(tf.sub(tf.relu(logits), tf.mul(logits, x)), tf.log1p(tf.exp(tf.neg(tf.abs(logits)))));
      const recon = tf.mean(bce, 1);
      const kl = tf.div(tf.mul(tf.sum(tf.sub(tf.sub(tf.add(1, logvar), tf.square(mu)), tf.exp(logvar)), 1), -0.5), inputSize);
      return tf.sum(tf.mul(weight, tf.add(recon, kl))) as tf.Scalar;
    });
}
