/**
 * What prompt tuning (`prompt-tuning.ts`) and prefix tuning (`prefix-tuning.ts`) share — PEFT's
 * "prompt learning" methods: learned vectors fed to a frozen model rather than layers injected in it.
 *
 * Both wrap one module of the model, `targetModule` (default the root): its input (prompt tuning)
 * or its attention layers (prefix tuning) receive the learned vectors. A non-root target is
 * replaced in its parent's `children` by the wrapper, so the model object stays the one to call;
 * for the root, the wrapper is returned and must be called instead. The learned leaves live in the
 * same Params tree under the target: `<target>.prompt_encoder.<name>.embedding.weight` (and, for
 * prefix tuning with a projection, `….transform.0|2.weight|bias`) — PEFT's module names. Every
 * other leaf is frozen.
 *
 * Saving writes PEFT's layout: `adapter_config.json` (`peft_type` `PROMPT_TUNING` or
 * `PREFIX_TUNING`, `num_virtual_tokens`, `token_dim`, `num_layers`, …, plus HyperLab's
 * `target_module`) and `adapter_model.safetensors` with the single key `prompt_embeddings`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { findModules, type Module } from '../nn/module.js';
import { flatten, type Params } from '../params/params.js';
import { decodeSafetensors, encodeSafetensors, writeFileAtomic } from '../io/safetensors.js';
import { ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE } from './save.js';
import { joinPath } from './param-paths.js';

/** A prompt-learning adapter added to a model. */
export interface PromptLearningRecord {
  /** Its name. */
  readonly name: string;
  /** `'PROMPT_TUNING'` or `'PREFIX_TUNING'`. */
  readonly peftType: 'PROMPT_TUNING' | 'PREFIX_TUNING';
  /** Path of the wrapped module ('' = root). */
  readonly targetModule: string;
  /** The leaves it created, by path in the Params tree. */
  readonly leaves: Map<string, tf.Variable>;
  /** The tensor saved as `prompt_embeddings` (computed; the caller disposes it). */
  promptEmbeddings(): tf.Tensor;
  /** PEFT's `adapter_config.json` fields. */
  peftConfig(): Record<string, unknown>;
}

/** What `addPromptTuning` / `addPrefixTuning` return. */
export interface PromptLearningResult {
  /** The module to call: the wrapper when the target is the root, else the (modified) model. */
  model: Module;
  /** The same Params tree, with the new leaves. */
  params: Params;
  /** The adapter. */
  record: PromptLearningRecord;
}

/** The module at `targetModule` with its parent, or throws listing the modules. */
export function findTarget(model: Module, targetModule: string, owner: string): { module: Module; parent?: Module; key?: string } {
  const all = findModules(model);
  const entry = all.find((e) => e.path === targetModule);
  if (!entry) throw new Error(`${owner}: no module at targetModule '${targetModule}' (modules: ${all.map((e) => e.path || "''").slice(0, 20).join(', ')})`);
  return entry;
}

/** Puts `wrapper` in place of the target; returns the module to call. */
export function installWrapper(model: Module, target: { parent?: Module; key?: string }, wrapper: Module): Module {
  if (!target.parent || target.key === undefined) return wrapper;
  (target.parent.children as Record<string, Module>)[target.key] = wrapper;
  return model;
}

/** Freezes every leaf of `params` except `keep`. */
export function freezeExcept(params: Params, keep: Iterable<tf.Variable>): void {
  const kept = new Set(keep);
  for (const v of flatten(params).values()) v.trainable = kept.has(v);
}

/** `<target>.prompt_encoder.<name>.<rest>`. */
export function encoderPath(targetModule: string, name: string, rest: string): string {
  return joinPath(targetModule, `prompt_encoder.${name}.${rest}`);
}

/**
 * An attention mask (`ctx.extras.attentionMask`, any form `keepMaskToAdditive` accepts) for a
 * sequence with `n` positions put in front: those positions are attended by and attend to every
 * position (keep-masks get 1s, additive masks 0s). A query axis of size 1 (broadcast) is kept.
 */
export function prependToMask(mask: tf.Tensor, n: number): tf.Tensor {
  return tf.tidy(() => {
    const m = mask.dtype === 'bool' ? tf.cast(mask, 'int32') : mask;
    const value = mask.dtype === 'float32' ? 0 : 1;
    const shape = m.shape as number[];
    const rows = (size: number): [number, number] => (size === 1 ? [0, 0] : [n, 0]);
    if (m.rank === 2) return tf.pad(m, [[0, 0], [n, 0]], value);
    if (m.rank === 3) return tf.pad(m, [[0, 0], rows(shape[1]), [n, 0]], value);
    if (m.rank === 4) return tf.pad(m, [[0, 0], [0, 0], rows(shape[2]), [n, 0]], value);
    throw new Error(`prompt tuning: attentionMask must be [batch, S], [batch, Sq, Sk] or [batch, heads, Sq, Sk], got [${mask.shape.join(', ')}]`);
  });
}

/** Writes a prompt-learning adapter in PEFT's layout. */
export function savePromptLearning(dir: string, record: PromptLearningRecord, options: { baseModelNameOrPath?: string | null } = {}): void {
  fs.mkdirSync(dir, { recursive: true });
  const embeddings = record.promptEmbeddings();
  try {
    writeFileAtomic(path.join(dir, ADAPTER_WEIGHTS_FILE), encodeSafetensors(new Map([['prompt_embeddings', embeddings]]), { format: 'pt' }));
  } finally {
    embeddings.dispose();
  }
  const json = { peft_type: record.peftType, task_type: null, base_model_name_or_path: options.baseModelNameOrPath ?? null, revision: null, inference_mode: true, ...record.peftConfig() };
  writeFileAtomic(path.join(dir, ADAPTER_CONFIG_FILE), new TextEncoder().encode(`${JSON.stringify(json, null, 2)}\n`));
}

/** Reads `adapter_config.json` and the `prompt_embeddings` tensor of a saved prompt-learning adapter. */
export function readPromptLearning(dir: string, peftType: string): { json: Record<string, unknown>; embeddings: tf.Tensor } {
  const configFile = path.join(dir, ADAPTER_CONFIG_FILE);
  const json = JSON.parse(fs.readFileSync(configFile, 'utf8')) as Record<string, unknown>;
  if (json.peft_type !== peftType) throw new Error(`load ${configFile}: peft_type is ${JSON.stringify(json.peft_type)}, expected "${peftType}"`);
  const weightsFile = path.join(dir, ADAPTER_WEIGHTS_FILE);
  const { tensors } = decodeSafetensors(new Uint8Array(fs.readFileSync(weightsFile)));
  const embeddings = tensors.get('prompt_embeddings');
  const unexpected = [...tensors.keys()].filter((k) => k !== 'prompt_embeddings');
  for (const [k, t] of tensors) if (k !== 'prompt_embeddings') t.dispose();
  if (!embeddings || unexpected.length) {
    embeddings?.dispose();
    throw new Error(`load ${weightsFile}: ${!embeddings ? 'missing key prompt_embeddings' : ''}${!embeddings && unexpected.length ? '; ' : ''}${unexpected.length ? `unexpected keys: ${unexpected.join(', ')}` : ''}`);
  }
  return { json, embeddings };
}
