/**
 * Shared checks for the tests of the rank-growing adapters (IncreLoRA, TriAdaptLoRA); not a test
 * file itself. The model is test-fixtures' smallMlp (6 → 5 → 4) with the adapter on both layers.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { maxAbsDiff } from '../testing/backends.js';
import { flatten, type Params } from '../params/params.js';
import type { Module } from '../nn/module.js';
import { adam } from '../train/optimizers.js';
import { loadAdapter, saveAdapter } from './save.js';
import { adapterTrainingHooks, type AdapterTrainingHooks } from './training-hooks.js';
import { baseOutput, output, randn, smallMlp, trainWithHooks } from './test-fixtures.js';
import { addAdapter, type AdapterRecord } from './framework.js';
import type { BaseAdapterConfig } from './config.js';

/** smallMlp with `config` added on both layers; asserts the output is still the base's exactly. */
export function addAtIdentity(config: BaseAdapterConfig): { model: Module; params: Params; record: AdapterRecord } {
  const { model, params } = smallMlp();
  const x = randn(2, [3, 6]);
  const yBase = baseOutput(model, params, x);
  const record = addAdapter(model, params, config);
  assert.equal(maxAbsDiff(yBase, output(model, params, x)), 0, 'the adapted model differs from the base at init');
  x.dispose();
  return { model, params, record };
}

/** Each layer's `ranknum` leaf value. */
export function ranksOf(params: Params, layers = ['0', '1']): number[] {
  return layers.map((l) => flatten(params).get(`${l}.ranknum.default`)!.dataSync()[0]);
}

/** Trains `steps` Adam steps (lr 0.01) on one random batch through the adapters' own hooks (`adapterTrainingHooks`); returns the hooks, not yet disposed. */
export async function trainWithOwnHooks(model: Module, params: Params, steps: number): Promise<AdapterTrainingHooks> {
  const hooks = adapterTrainingHooks(model, params)!;
  const optimizer = adam({ lr: 0.01 });
  await trainWithHooks(model, params, hooks, { in: 6, out: 4 }, steps, optimizer);
  optimizer.dispose();
  return hooks;
}

/**
 * Saves the adapter, checks `adapter_config.json`'s `peft_type`, loads it into a fresh smallMlp and
 * checks that the ranks and the forward come back; returns the saved config.
 */
export function checkGrownSaveLoad(model: Module, params: Params, peftType: string): Record<string, unknown> {
  const x = randn(2, [3, 6]);
  const y = output(model, params, x);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${peftType.toLowerCase()}-`));
  try {
    saveAdapter(dir, model, params);
    const json = JSON.parse(fs.readFileSync(path.join(dir, 'adapter_config.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(json.peft_type, peftType);
    const fresh = smallMlp();
    loadAdapter(dir, fresh.model, fresh.params);
    assert.deepEqual(ranksOf(fresh.params), ranksOf(params));
    assert.ok(maxAbsDiff(y, output(fresh.model, fresh.params, x)) < 1e-6, 'the reloaded adapter gives another forward');
    return json;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    tf.dispose(x);
  }
}
