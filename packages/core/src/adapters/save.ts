/**
 * Saving and loading one adapter in Hugging Face PEFT's layout: a directory with
 * `adapter_config.json` (PEFT's snake_case fields: `peft_type`, `r`, `lora_alpha`,
 * `target_modules`, …) and `adapter_model.safetensors` (keys `base_model.model.<path>.lora_A.weight`,
 * `…lora_B.weight`, `…lora_magnitude_vector`, `…ia3_l`, `…vera_lambda_b`, `…vera_lambda_d`,
 * `base_model.vera_A`, `base_model.vera_B`, and `base_model.model.<path>.weight|bias` for trained
 * biases and `modulesToSave` modules — the adapter name dropped, as PEFT does).
 *
 * Loading re-creates the adapter from the config (so target patterns and ranks are checked against
 * the model), then copies the tensors in; every missing, unexpected or mis-shaped key is named in
 * one error, and then the model and params are left as they were.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { Module } from '../nn/module.js';
import { flatten, type Params } from '../params/params.js';
import { decodeSafetensors, encodeSafetensors, writeFileAtomic } from '../io/safetensors.js';
import { addAdapter, deleteAdapter, getAdapter, type AdapterRecord } from './framework.js';
import { getAdapterMethod, methodOfPeftType, knownPeftTypes } from './registry.js';
import type { AdapterMethod } from './method.js';

/** File names inside an adapter directory (PEFT's). */
export const ADAPTER_CONFIG_FILE = 'adapter_config.json';
export const ADAPTER_WEIGHTS_FILE = 'adapter_model.safetensors';

/** Options of {@link saveAdapter}. */
export interface SaveAdapterOptions {
  /** Written as `base_model_name_or_path`. Default null. */
  baseModelNameOrPath?: string | null;
}

/** The tensors an adapter saves, by PEFT key. */
export function adapterStateDict(record: AdapterRecord): Map<string, tf.Variable> {
  const out = new Map<string, tf.Variable>();
  const omit = (key: string): boolean => record.method.omitFromSave?.(record.config, key) === true;
  for (const leaf of [...record.leaves, ...record.baseTrainable]) {
    if (omit(leaf.peftKey)) continue;
    if (out.has(leaf.peftKey)) throw new Error(`adapter '${record.name}': two leaves map to the saved key ${leaf.peftKey}`);
    out.set(leaf.peftKey, leaf.variable);
  }
  return out;
}

/** PEFT's `adapter_config.json` for an adapter. */
export function peftConfigJson(record: AdapterRecord, options: SaveAdapterOptions = {}): Record<string, unknown> {
  return {
    peft_type: record.method.peftType,
    task_type: null,
    base_model_name_or_path: options.baseModelNameOrPath ?? null,
    revision: null,
    inference_mode: true,
    ...record.method.toPeft(record.config),
  };
}

/** Writes adapter `name` of `model` to `dir` (created if needed), both files atomically. */
export function saveAdapter(dir: string, model: Module, params: Params, name = 'default', options: SaveAdapterOptions = {}): void {
  void params; // the adapter's leaves are bound to this tree (see framework.ts)
  const record = getAdapter(model, name);
  fs.mkdirSync(dir, { recursive: true });
  writeFileAtomic(path.join(dir, ADAPTER_WEIGHTS_FILE), encodeSafetensors(adapterStateDict(record), { format: 'pt' }));
  writeFileAtomic(path.join(dir, ADAPTER_CONFIG_FILE), new TextEncoder().encode(`${JSON.stringify(peftConfigJson(record, options), null, 2)}\n`));
}

function methodOfPeftConfig(json: Record<string, unknown>, file: string): AdapterMethod<any> {
  switch (json.peft_type) {
    case 'LORA':
      return getAdapterMethod(json.use_dora === true ? 'dora' : 'lora');
    case 'VERA':
      return getAdapterMethod('vera');
    case 'IA3':
      return getAdapterMethod('ia3');
    default: {
      const method = methodOfPeftType(json.peft_type);
      if (method) return method;
      throw new Error(`loadAdapter ${file}: unsupported peft_type ${JSON.stringify(json.peft_type)} (supported: ${knownPeftTypes().join(', ')}; LORA with use_dora is DoRA)`);
    }
  }
}

/**
 * Reads an adapter saved by {@link saveAdapter} (or by PEFT, for the modules that correspond) into
 * `model`/`params` as adapter `name`. A PiSSA or CorDA adapter is loaded with the default init (the
 * saved A and B replace it; the base weights are not touched — give the residual base yourself).
 */
export function loadAdapter(dir: string, model: Module, params: Params, name = 'default'): AdapterRecord {
  const configFile = path.join(dir, ADAPTER_CONFIG_FILE);
  const json = JSON.parse(fs.readFileSync(configFile, 'utf8')) as Record<string, unknown>;
  const method = methodOfPeftConfig(json, configFile);
  const config = method.fromPeft(json);
  if (config.initLoraWeights === 'pissa' || config.initLoraWeights === 'corda') {
    // The saved A and B replace the init, as PEFT loads them (it needs init_lora_weights=True for CorDA).
    config.initLoraWeights = true;
    delete config.cordaConfig;
  }
  const weightsFile = path.join(dir, ADAPTER_WEIGHTS_FILE);
  const { tensors } = decodeSafetensors(new Uint8Array(fs.readFileSync(weightsFile)));
  const flags = new Map([...flatten(params).values()].map((v) => [v, v.trainable]));
  try {
    const record = addAdapter(model, params, config, name);
    const expected = adapterStateDict(record);
    const missing = [...expected.keys()].filter((k) => !tensors.has(k));
    const unexpected = [...tensors.keys()].filter((k) => !expected.has(k));
    const mismatched: string[] = [];
    for (const [key, target] of expected) {
      const source = tensors.get(key);
      if (source && !tf.util.arraysEqual(source.shape, target.shape)) mismatched.push(`${key} (file [${source.shape.join(', ')}], model [${target.shape.join(', ')}])`);
    }
    if (missing.length || unexpected.length || mismatched.length) {
      deleteAdapter(model, params, name);
      for (const [v, trainable] of flags) v.trainable = trainable;
      const problems = [
        missing.length ? `missing keys: ${missing.join(', ')}` : '',
        unexpected.length ? `unexpected keys: ${unexpected.join(', ')}` : '',
        mismatched.length ? `shape mismatches: ${mismatched.join('; ')}` : '',
      ].filter(Boolean);
      throw new Error(`loadAdapter ${weightsFile}: ${problems.join('. ')}`);
    }
    for (const [key, target] of expected) target.assign(tensors.get(key)!);
    return record;
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
}
