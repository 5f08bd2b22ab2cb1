/**
 * Prefix tuning: learned key/value prefixes for every attention layer of a frozen model.
 *
 * Paper: Xiang Lisa Li, Percy Liang (2021), "Prefix-Tuning: Optimizing Continuous Prompts for
 * Generation", arXiv:2101.00190.
 *
 * For each of the L attention modules (`multi_head_attention`) inside the wrapped module (see
 * `prompt-learning.ts`), in tree order, a prefix of n = `numVirtualTokens` keys K_l `[n, E]` and
 * values V_l `[n, E]` (E = `tokenDim`, the attention width; in the projected space, heads
 * side by side) is put before the sequence's projected keys and values; every query attends to it
 * (the attention mask is extended), the output length is unchanged. The attention core reads the
 * prefix from `ctx.extras.prefixKeys` / `prefixValues` (`nn/attention.ts`); an attention wrapper
 * sets those for its own layer.
 *
 * All prefixes form one matrix P `[n, L·2·E]`, laid out as PEFT's `past_key_values`: for layer l,
 * columns `[2l·E, (2l+1)·E)` are its keys and `[(2l+1)·E, (2l+2)·E)` its values. P is either
 * trained directly (`embedding.weight` `[n, L·2·E]`, N(0, 1) init, as PEFT), or — with
 * `prefixProjection`, the paper's reparameterisation for stable training — computed as
 * P = MLP(P′) = tanh(P′·W₀ᵀ + b₀)·W₂ᵀ + b₂ from a smaller P′ `[n, E]` (`embedding.weight`), with
 * W₀ `[H, E]`, W₂ `[L·2·E, H]`, H = `encoderHiddenSize` (default E); after training only P is needed.
 *
 * Params: `<target>.prompt_encoder.<name>.embedding.weight` and, with the projection,
 * `….transform.0.weight|bias`, `….transform.2.weight|bias` (PEFT's `PrefixEncoder` names). Saved,
 * as PEFT does, as the single tensor `prompt_embeddings` = P `[n, L·2·E]`; loading gives the
 * direct (projection-free) form, as PEFT's inference mode does.
 * Trainable count: n·L·2·E; with the projection n·E + H·E + H + L·2·E·H + L·2·E.
 */
import * as tf from '@tensorflow/tfjs-core';
import { findModules, type ApplyContext, type Module } from '../nn/module.js';
import { variable, type Params } from '../params/params.js';
import { Rng } from '../random.js';
import { initializers } from '../nn/init.js';
import { linearForward } from '../nn/linear.js';
import type { MultiHeadAttentionModule } from '../nn/attention.js';
import { fields, validateConfig, type ConfigSchema } from './config.js';
import { encoderPath, findTarget, freezeExcept, installWrapper, readPromptLearning, type PromptLearningRecord, type PromptLearningResult } from './prompt-learning.js';
import { setLeaf, subtree, tensorAt } from './param-paths.js';

/** Prefix tuning's configuration (PEFT's `PrefixTuningConfig`, camelCase). */
export interface PrefixTuningConfig {
  method: 'prefix_tuning';
  /** Prefix length n. */
  numVirtualTokens: number;
  /** Attention width E of the targeted layers. */
  tokenDim: number;
  /** Reparameterise the prefixes through an MLP. Default false. */
  prefixProjection: boolean;
  /** Hidden width H of that MLP. Default `tokenDim`. */
  encoderHiddenSize?: number;
  /** Path of the module whose attention layers get prefixes. Default '' (the root). */
  targetModule: string;
}

/** What {@link prefixTuningConfig} accepts. */
export type PrefixTuningConfigInput = Partial<Omit<PrefixTuningConfig, 'method' | 'numVirtualTokens' | 'tokenDim'>> & Pick<PrefixTuningConfig, 'numVirtualTokens' | 'tokenDim'>;

const schema: ConfigSchema = {
  method: fields.fixed('prefix_tuning', 'the method'),
  numVirtualTokens: fields.positiveInt(),
  tokenDim: fields.positiveInt(),
  prefixProjection: fields.boolean(false),
  encoderHiddenSize: { ...fields.positiveInt(), optional: true },
  targetModule: fields.string(''),
};

/** A validated prefix-tuning config. */
export function prefixTuningConfig(input: PrefixTuningConfigInput): PrefixTuningConfig {
  return validateConfig<PrefixTuningConfig>('PrefixTuningConfig', schema, { method: 'prefix_tuning', ...input });
}

/** Options of {@link addPrefixTuning}. */
export interface PrefixTuningOptions {
  /** Adapter name. Default `'default'`. */
  name?: string;
  /** Stream of the init. Default `new Rng('prefix_tuning:<name>')`. */
  rng?: Rng;
}

/**
 * Adds prefix tuning to the attention layers inside `config.targetModule`, freezing every other
 * leaf of `params`. Returns the module to call, the params and the record (for saving).
 */
export function addPrefixTuning(model: Module, params: Params, input: PrefixTuningConfig | PrefixTuningConfigInput, options: PrefixTuningOptions = {}): PromptLearningResult {
  const config = prefixTuningConfig(input as PrefixTuningConfigInput);
  const name = options.name ?? 'default';
  const target = findTarget(model, config.targetModule, 'addPrefixTuning');
  const inner = target.module;
  const n = config.numVirtualTokens;
  const e = config.tokenDim;
  const attention = findModules(inner).filter((m) => m.path !== '' && m.module.kind === 'multi_head_attention');
  if (attention.length === 0) throw new Error(`addPrefixTuning: no multi_head_attention module inside '${config.targetModule}'`);
  const wrong = attention.filter((m) => (m.module as MultiHeadAttentionModule).embedDim !== e);
  if (wrong.length) throw new Error(`addPrefixTuning: tokenDim ${e} differs from the embedDim of ${wrong.map((m) => `'${m.path}' (${(m.module as MultiHeadAttentionModule).embedDim})`).join(', ')}`);
  const layers = attention.length;
  const width = layers * 2 * e;
  const hidden = config.encoderHiddenSize ?? e;

  // Leaves.
  const rng = options.rng ?? new Rng(`prefix_tuning:${name}`);
  const created: Record<string, tf.Variable> = {};
  const make = (rel: string, value: tf.Tensor): void => {
    created[rel] = variable(value, encoderPath(config.targetModule, name, rel));
  };
  if (config.prefixProjection) {
    make('embedding.weight', initializers.normal(1)(rng.fork('embedding'), [n, e]));
    make('transform.0.weight', initializers.torchDefault()(rng.fork('transform.0.weight'), [hidden, e]));
    make('transform.0.bias', initializers.uniform(1 / Math.sqrt(e))(rng.fork('transform.0.bias'), [hidden]));
    make('transform.2.weight', initializers.torchDefault()(rng.fork('transform.2.weight'), [width, hidden]));
    make('transform.2.bias', initializers.uniform(1 / Math.sqrt(hidden))(rng.fork('transform.2.bias'), [width]));
  } else {
    make('embedding.weight', initializers.normal(1)(rng.fork('embedding'), [n, width]));
  }
  for (const [rel, v] of Object.entries(created)) setLeaf(params, encoderPath(config.targetModule, name, rel), v);
  freezeExcept(params, Object.values(created));

  const own = (p: Params, rel: string): tf.Tensor => tensorAt(p, `prompt_encoder.${name}.${rel}`, 'prefix tuning');
  /** P `[n, L·2·E]` from the params of the wrapped module. */
  const prefixes = (p: Params): tf.Tensor =>
    tf.tidy(() => {
      const emb = own(p, 'embedding.weight');
      if (!config.prefixProjection) return tf.clone(emb);
      const h = tf.tanh(linearForward(emb, own(p, 'transform.0.weight'), own(p, 'transform.0.bias')));
      return linearForward(h, own(p, 'transform.2.weight'), own(p, 'transform.2.bias'));
    });
  const keyOf = (l: number, which: 'k' | 'v'): string => `prefix:${name}:${l}:${which}`;

  // Each attention layer reads its own prefix from the context.
  attention.forEach((entry, l) => {
    const mha = entry.module;
    const wrapped: Module & { base: Module } = {
      kind: 'prefix_attention',
      base: mha,
      children: mha.children,
      init: (r) => mha.init(r),
      apply(p: Params, x: tf.Tensor, ctx?: ApplyContext): tf.Tensor {
        const k = ctx?.extras?.[keyOf(l, 'k')];
        const v = ctx?.extras?.[keyOf(l, 'v')];
        if (!k || !v) return mha.apply(p, x, ctx);
        return mha.apply(p, x, { ...ctx!, extras: { ...ctx!.extras, prefixKeys: k, prefixValues: v } });
      },
    };
    (entry.parent!.children as Record<string, Module>)[entry.key!] = wrapped;
  });

  const wrapper: Module & { base: Module } = {
    kind: 'prefix_tuning',
    base: inner,
    init: (r) => inner.init(r),
    apply(p: Params, x: tf.Tensor, ctx?: ApplyContext): tf.Tensor {
      return tf.tidy(() => {
        const all = tf.reshape(prefixes(p), [n, layers * 2, e]);
        const extras: Record<string, tf.Tensor> = { ...ctx?.extras };
        for (let l = 0; l < layers; l++) {
          extras[keyOf(l, 'k')] = tf.reshape(tf.slice(all, [0, 2 * l, 0], [n, 1, e]), [n, e]);
          extras[keyOf(l, 'v')] = tf.reshape(tf.slice(all, [0, 2 * l + 1, 0], [n, 1, e]), [n, e]);
        }
        return inner.apply(p, x, { training: false, ...ctx, extras });
      });
    },
  };
  const root = installWrapper(model, target, wrapper);
  const record: PromptLearningRecord = {
    name,
    peftType: 'PREFIX_TUNING',
    targetModule: config.targetModule,
    leaves: new Map(Object.entries(created).map(([rel, v]) => [encoderPath(config.targetModule, name, rel), v])),
    promptEmbeddings: () => prefixes(subtree(params, config.targetModule)),
    peftConfig: () => ({
      num_virtual_tokens: n,
      token_dim: e,
      num_transformer_submodules: 1,
      num_attention_heads: (attention[0].module as MultiHeadAttentionModule).numHeads,
      num_layers: layers,
      prefix_projection: config.prefixProjection,
      encoder_hidden_size: hidden,
      target_module: config.targetModule,
    }),
  };
  return { model: root, params, record };
}

/**
 * Loads a prefix-tuning adapter saved by `savePromptLearning` (or by PEFT, given `targetModule`):
 * P `[n, L·2·E]` into the direct form (no projection).
 */
export function loadPrefixTuning(dir: string, model: Module, params: Params, options: { name?: string; targetModule?: string } = {}): PromptLearningResult {
  const { json, embeddings } = readPromptLearning(dir, 'PREFIX_TUNING');
  try {
    const n = json.num_virtual_tokens as number;
    const e = json.token_dim as number;
    const targetModule = options.targetModule ?? (typeof json.target_module === 'string' ? json.target_module : '');
    const result = addPrefixTuning(model, params, { numVirtualTokens: n, tokenDim: e, targetModule }, { name: options.name });
    const leaf = [...result.record.leaves.values()][0];
    if (!tf.util.arraysEqual(embeddings.shape, leaf.shape)) {
      throw new Error(`loadPrefixTuning ${dir}: prompt_embeddings is [${embeddings.shape.join(', ')}], the model needs [${leaf.shape.join(', ')}] (${json.num_layers} layers in the file)`);
    }
    leaf.assign(embeddings);
    return result;
  } finally {
    embeddings.dispose();
  }
}
