/**
 * BitFit: train the biases only.
 *
 * Paper: Elad Ben Zaken, Shauli Ravfogel, Yoav Goldberg (2022), "BitFit: Simple Parameter-efficient
 * Fine-tuning for Transformer-based Masked Language-models", ACL 2022, arXiv:2106.10199.
 *
 * No module is wrapped and no parameter added: every leaf is frozen except the `bias` leaves of
 * the selected modules (all modules by default; `targetModules` as for the other methods). The
 * trainable count is the sum of those biases' sizes. PEFT has no BitFit, so there is no PEFT file
 * format for it: save the biases with `saveParams`.
 */
import { findModules, type Module } from '../nn/module.js';
import { flatten, type Params } from '../params/params.js';
import { fields, validateConfig, type TargetModules } from './config.js';
import { describeTargets, targetMatcher } from './targets.js';

/** BitFit's configuration. */
export interface BitFitConfig {
  /** Modules whose biases train (same matching rules as LoRA's). Default: every module. */
  targetModules?: TargetModules;
}

/**
 * Freezes every leaf of `params` except the biases of the selected modules; returns the paths of
 * the trainable biases. Throws when there is none.
 */
export function applyBitFit(model: Module, params: Params, config: BitFitConfig = {}): string[] {
  const cfg = validateConfig<BitFitConfig>('BitFitConfig', { targetModules: { ...fields.targets(), optional: true } }, config);
  const matches = cfg.targetModules === undefined ? () => true : targetMatcher(cfg.targetModules);
  const modules = new Set(findModules(model).map((e) => e.path).filter((p) => matches(p)));
  const trainable: string[] = [];
  for (const [path, leaf] of flatten(params)) {
    const isBias = path === 'bias' || path.endsWith('.bias');
    const owner = path === 'bias' ? '' : path.slice(0, -'.bias'.length);
    leaf.trainable = isBias && modules.has(owner);
    if (leaf.trainable) trainable.push(path);
  }
  if (trainable.length === 0) {
    const which = cfg.targetModules === undefined ? 'the model' : `targetModules ${JSON.stringify(describeTargets(cfg.targetModules))}`;
    throw new Error(`BitFit: ${which} has no bias to train`);
  }
  return trainable;
}
