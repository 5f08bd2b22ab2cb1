/**
 * Prompt tuning: learned "soft prompt" embeddings prepended to the input sequence of a frozen model.
 *
 * Paper: Brian Lester, Rami Al-Rfou, Noah Constant (2021), "The Power of Scale for
 * Parameter-Efficient Prompt Tuning", arXiv:2104.08691.
 *
 * A matrix P `[numVirtualTokens, tokenDim]` is the only trainable tensor. The wrapped module (see
 * `prompt-learning.ts`; typically the block stack after the word embeddings) receives
 * `[batch, n + seq, d]` = concat(P broadcast over the batch, x) instead of x `[batch, seq, d]`, and an
 * attention mask in `ctx.extras.attentionMask`, if any, gets n attended positions in front. Its
 * output keeps all n + seq positions (as PEFT's does for token-level outputs).
 *
 * Initialisation (`promptTuningInit`): `'random'` P ~ N(0, 1) (as PEFT's `nn.Embedding`);
 * `'tokens'` rows of a given embedding table at `initTokenIds`, repeated cyclically to n rows
 * (PEFT's `TEXT` init, which takes the ids of a tokenised text; the table is a frozen word-embedding
 * weight passed as `embeddingWeight`). The paper found initialising from vocabulary embeddings better
 * than random for smaller models.
 *
 * Params: `<target>.prompt_encoder.<name>.embedding.weight`; saved as PEFT's `prompt_embeddings`.
 * Trainable count: numVirtualTokens·tokenDim.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ApplyContext, Module } from '../nn/module.js';
import { variable, type Params } from '../params/params.js';
import { Rng } from '../random.js';
import { initializers } from '../nn/init.js';
import { fields, validateConfig, type ConfigSchema } from './config.js';
import { encoderPath, findTarget, freezeExcept, installWrapper, prependToMask, readPromptLearning, type PromptLearningRecord, type PromptLearningResult } from './prompt-learning.js';
import { setLeaf, tensorAt } from './param-paths.js';

/** Prompt tuning's configuration (PEFT's `PromptTuningConfig`, camelCase; init names HyperLab's). */
export interface PromptTuningConfig {
  method: 'prompt_tuning';
  /** Number n of virtual tokens. */
  numVirtualTokens: number;
  /** Width d of the wrapped module's input. */
  tokenDim: number;
  /** `'random'` (default) or `'tokens'` (rows of `embeddingWeight` at `initTokenIds`). */
  promptTuningInit: 'random' | 'tokens';
  /** Token ids for the `'tokens'` init. */
  initTokenIds?: number[];
  /** Path of the module whose input gets the prompt. Default '' (the root). */
  targetModule: string;
}

/** What {@link promptTuningConfig} accepts. */
export type PromptTuningConfigInput = Partial<Omit<PromptTuningConfig, 'method' | 'numVirtualTokens' | 'tokenDim'>> & Pick<PromptTuningConfig, 'numVirtualTokens' | 'tokenDim'>;

const schema: ConfigSchema = {
  method: fields.fixed('prompt_tuning', 'the method'),
  numVirtualTokens: fields.positiveInt(),
  tokenDim: fields.positiveInt(),
  promptTuningInit: fields.oneOf(['random', 'tokens'], 'random'),
  initTokenIds: {
    expected: 'a non-empty array of non-negative integers',
    check: (v) => Array.isArray(v) && v.length > 0 && v.every((i) => Number.isInteger(i) && i >= 0),
    optional: true,
    json: { type: 'array', minItems: 1, items: { type: 'integer', minimum: 0 } },
  },
  targetModule: fields.string(''),
};

/** A validated prompt-tuning config. */
export function promptTuningConfig(input: PromptTuningConfigInput): PromptTuningConfig {
  const config = validateConfig<PromptTuningConfig>('PromptTuningConfig', schema, { method: 'prompt_tuning', ...input });
  if (config.promptTuningInit === 'tokens' && !config.initTokenIds) throw new Error("PromptTuningConfig: promptTuningInit 'tokens' needs initTokenIds");
  return config;
}

/** Options of {@link addPromptTuning}. */
export interface PromptTuningOptions {
  /** Adapter name. Default `'default'`. */
  name?: string;
  /** The word-embedding table `[vocab, tokenDim]` for the `'tokens'` init. */
  embeddingWeight?: tf.Tensor;
  /** Stream of the random init. Default `new Rng('prompt_tuning:<name>')`. */
  rng?: Rng;
}

/** The initial prompt `[n, d]`. */
function initialPrompt(config: PromptTuningConfig, options: PromptTuningOptions, name: string): tf.Tensor {
  const { numVirtualTokens: n, tokenDim: d } = config;
  if (config.promptTuningInit === 'random') return initializers.normal(1)(options.rng ?? new Rng(`prompt_tuning:${name}`), [n, d]);
  const table = options.embeddingWeight;
  if (!table || table.rank !== 2 || table.shape[1] !== d) {
    throw new Error(`addPromptTuning: the 'tokens' init needs embeddingWeight [vocab, ${d}]${table ? `, got [${table.shape.join(', ')}]` : ''}`);
  }
  const ids = Array.from({ length: n }, (_, i) => config.initTokenIds![i % config.initTokenIds!.length]);
  const bad = ids.filter((i) => i >= (table.shape[0] as number));
  if (bad.length) throw new Error(`addPromptTuning: initTokenIds ${[...new Set(bad)].join(', ')} out of range for a vocabulary of ${table.shape[0]}`);
  return tf.tidy(() => tf.gather(table, tf.tensor1d(ids, 'int32')));
}

/**
 * Adds prompt tuning to `model` (at `config.targetModule`), freezing every other leaf of `params`.
 * Returns the module to call (see `prompt-learning.ts`), the params and the record (for saving).
 */
export function addPromptTuning(model: Module, params: Params, input: PromptTuningConfig | PromptTuningConfigInput, options: PromptTuningOptions = {}): PromptLearningResult {
  const config = promptTuningConfig(input as PromptTuningConfigInput);
  const name = options.name ?? 'default';
  const target = findTarget(model, config.targetModule, 'addPromptTuning');
  const inner = target.module;
  const n = config.numVirtualTokens;
  const d = config.tokenDim;
  const leafPath = encoderPath(config.targetModule, name, 'embedding.weight');
  const prompt = variable(initialPrompt(config, options, name), leafPath);
  setLeaf(params, leafPath, prompt);
  freezeExcept(params, [prompt]);
  const rel = `prompt_encoder.${name}.embedding.weight`;
  const wrapper: Module & { base: Module } = {
    kind: 'prompt_tuning',
    base: inner,
    init: (rng) => inner.init(rng),
    apply(p: Params, x: tf.Tensor, ctx?: ApplyContext): tf.Tensor {
      if (x.rank !== 3 || x.shape[2] !== d) throw new Error(`prompt tuning '${name}': expected input [batch, seq, ${d}], got [${x.shape.join(', ')}]`);
      const table = tensorAt(p, rel, 'prompt tuning');
      return tf.tidy(() => {
        const batch = x.shape[0] as number;
        const virtual = tf.broadcastTo(tf.expandDims(table, 0), [batch, n, d]);
        const mask = ctx?.extras?.attentionMask;
        const inner2: ApplyContext | undefined = mask === undefined ? ctx : { ...ctx!, extras: { ...ctx!.extras, attentionMask: prependToMask(mask, n) } };
        return inner.apply(p, tf.concat([virtual, x], 1), inner2);
      });
    },
  };
  const root = installWrapper(model, target, wrapper);
  const record: PromptLearningRecord = {
    name,
    peftType: 'PROMPT_TUNING',
    targetModule: config.targetModule,
    leaves: new Map([[leafPath, prompt]]),
    promptEmbeddings: () => tf.clone(prompt),
    peftConfig: () => ({
      num_virtual_tokens: n,
      token_dim: d,
      num_transformer_submodules: 1,
      prompt_tuning_init: config.promptTuningInit === 'random' ? 'RANDOM' : 'TEXT',
      prompt_tuning_init_text: null,
      init_token_ids: config.initTokenIds ?? null,
      target_module: config.targetModule,
    }),
  };
  return { model: root, params, record };
}

/** Loads a prompt-tuning adapter saved by `savePromptLearning` (or by PEFT, given `targetModule`). */
export function loadPromptTuning(dir: string, model: Module, params: Params, options: { name?: string; targetModule?: string } = {}): PromptLearningResult {
  const { json, embeddings } = readPromptLearning(dir, 'PROMPT_TUNING');
  try {
    const n = json.num_virtual_tokens as number;
    const d = json.token_dim as number;
    if (!tf.util.arraysEqual(embeddings.shape, [n, d])) throw new Error(`loadPromptTuning ${dir}: prompt_embeddings is [${embeddings.shape.join(', ')}], config says [${n}, ${d}]`);
    const targetModule = options.targetModule ?? (typeof json.target_module === 'string' ? json.target_module : '');
    const result = addPromptTuning(model, params, { numVirtualTokens: n, tokenDim: d, targetModule }, { name: options.name });
    [...result.record.leaves.values()][0].assign(embeddings);
    return result;
  } finally {
    embeddings.dispose();
  }
}
