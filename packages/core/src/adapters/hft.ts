/**
 * HFT: Half Fine-Tuning.
 *
 * Paper: Tingfeng Hui, Zhenyu Zhang, Shuohuan Wang, Weiran Xu, Yu Sun, Hua Wu (2024), "HFT: Half
 * Fine-Tuning for Large Language Models", ACL 2025, arXiv:2404.18466.
 *
 * Full fine-tuning in rounds: in each round half of the model's parameter matrices train and the
 * other half stay frozen, a fresh (seeded) choice every round, so over a run every matrix trains
 * while roughly half of the pre-trained values are held back at any time. The choice is the paper's
 * category-level one: inside each transformer block, half of the attention projections (q, k, v,
 * out), half of the feed-forward matrices and half of the layer norms train; where a category's
 * count per block is odd (LLaMA's three FFN matrices) half the blocks train one more and the other
 * half one fewer, so the category as a whole trains exactly `ratio` of its matrices. Embeddings
 * train every round (the paper updates the embedding and the LM head by default; name the head in
 * `modulesToSave`).
 *
 * HyperLab's reading for models that are not transformers: modules outside any transformer block
 * form one category per module kind (an MLP's linears are one category), chosen the same way; a
 * "parameter matrix" is one module's leaves together (a linear's weight with its bias). When
 * `ratio · count` is not an integer for a whole category, the extra matrix is drawn per round with
 * probability equal to the fraction, so `ratio` holds on average.
 *
 * How the frozen half stays frozen. A zero gradient is not enough: `optimizers.ts`'s Adam updates
 * its moments on every gradient it is given (m ← β1·m), so a matrix that trained last round keeps
 * moving by lr·m̂/(√v̂ + ε) on leftover momentum, and AdamW's decoupled decay shrinks it too. HFT's
 * `transformGradients` therefore hands the optimizer no gradient (`null`) for the frozen matrices:
 * the optimizer then skips them entirely — moments, step count and weight decay — exactly as
 * PyTorch's optimizers skip a parameter whose `.grad` is `None` (the paper's `requires_grad=False`
 * under Hugging Face's Trainer). Frozen matrices are bit-identical through their round (tested).
 *
 * Departure: the frozen half's gradients are still computed (train() takes the gradient of every
 * trainable leaf), so HFT here saves no time; the paper's ~30 % saving comes from not computing them.
 * Rounds are every `roundSteps` steps, or one epoch when `roundSteps` is not given (the paper's
 * round is an epoch; the caller must then say how many steps an epoch has).
 */
import type * as tf from '@tensorflow/tfjs-core';
import { findModules, type Module } from '../nn/module.js';
import type { Params } from '../params/params.js';
import { Rng } from '../random.js';
import type { GradientList } from '../train/clip.js';
import { fields, type ConfigSchema } from './config.js';
import { leavesByModule, modulesToSaveMatcher, type OwnedLeaves } from './module-leaves.js';
import { registerWholeModelMethod, type AdapterTrainingHooks, type WholeModelMethod } from './training-hooks.js';

/** HFT's configuration (`method: hft` in `%%adapter`). */
export interface HftConfig {
  method: 'hft';
  /** Share of each category's parameter matrices that trains in a round. Default 0.5 (the paper's). */
  ratio: number;
  /** Steps per round; default: one epoch (the caller must give `stepsPerEpoch`). */
  roundSteps?: number;
  /** Seed of the per-round choice; default: the run's stream. */
  seed?: number;
  /** Modules trained in every round (a new head; the paper's LM head). Default none. */
  modulesToSave: string[];
}

/** HFT's fields. */
export const hftSchema: ConfigSchema = {
  method: fields.fixed('hft', 'the method'),
  ratio: { expected: 'a number in (0, 1]', check: (v) => typeof v === 'number' && v > 0 && v <= 1, default: 0.5, json: { type: 'number', exclusiveMinimum: 0, maximum: 1 } },
  roundSteps: { ...fields.positiveInt(), optional: true },
  seed: { ...fields.integer(), optional: true },
  modulesToSave: fields.stringList([]),
};

/** One parameter matrix: a module's own leaves, trained or frozen together. */
export interface HftUnit {
  /** The module's path. */
  path: string;
  /** Its category (`attention`, `ffn`, `norm` inside a transformer block; the module kind outside). */
  category: string;
  /** The transformer block it belongs to ('' outside blocks). */
  block: string;
  /** `always`: trains every round (embeddings, modulesToSave); `half`: chosen per round. */
  role: 'always' | 'half';
  /** Its leaves. */
  leaves: OwnedLeaves['leaves'];
  /** Scalars in its leaves. */
  size: number;
}

const BLOCK_CATEGORY: Record<string, string> = { multi_head_attention: 'attention', linear: 'ffn', layer_norm: 'norm' };

/** The parameter matrices of `model` with their HFT category and block. */
export function hftUnits(model: Module, params: Params, modulesToSave: readonly string[] = []): HftUnit[] {
  const saved = modulesToSaveMatcher(model, modulesToSave, 'HftConfig');
  const owned = leavesByModule(model, params, 'HFT');
  const modules = new Map(findModules(model).map((e) => [e.path, e.module]));
  const blocks = [...modules].filter(([, m]) => m.kind === 'transformer_encoder_block').map(([p]) => p);
  return owned.map((o) => {
    const block = blocks.filter((b) => b === '' || o.path.startsWith(`${b}.`)).sort((a, b) => b.length - a.length)[0];
    let category = o.kind;
    if (block !== undefined) {
      const child = o.path.slice(block === '' ? 0 : block.length + 1).split('.')[0];
      const childKind = modules.get(block === '' ? child : `${block}.${child}`)?.kind ?? o.kind;
      category = BLOCK_CATEGORY[childKind] ?? childKind;
    }
    const always = o.kind === 'embedding' || saved(o.path);
    return { path: o.path, category, block: block ?? '', role: always ? 'always' : 'half', leaves: o.leaves, size: o.leaves.reduce((n, l) => n + l.variable.size, 0) };
  });
}

/**
 * Chooses, within one category, which members train: `groups` are the category's members per
 * block. Every block trains ⌊ratio·n⌋ of its n members; the remaining ones up to the category's
 * total (⌊ratio·N⌋, plus one with probability frac(ratio·N)) go to randomly chosen blocks, one each.
 * Returns the chosen members.
 */
export function chooseCategoryMembers<T>(groups: readonly (readonly T[])[], ratio: number, rng: Rng): T[] {
  const total = groups.reduce((n, g) => n + g.length, 0);
  const exact = ratio * total;
  // The rounding guards against ratio·N landing a hair below an integer (0.1·30 = 3.0000000000000004).
  const whole = Math.floor(exact + 1e-9);
  const target = Math.min(total, whole + (rng.uniform() < exact - whole - 1e-9 ? 1 : 0));
  const counts = groups.map((g) => Math.floor(ratio * g.length + 1e-9));
  let extra = target - counts.reduce((a, b) => a + b, 0);
  for (const b of rng.permutation(groups.length)) {
    if (extra <= 0) break;
    if (counts[b] < groups[b].length) {
      counts[b]++;
      extra--;
    }
  }
  const chosen: T[] = [];
  groups.forEach((g, b) => {
    const order = rng.permutation(g.length);
    for (let i = 0; i < counts[b]; i++) chosen.push(g[order[i]]);
  });
  return chosen;
}

/** The units that train in one round: every `always` unit and, per category, a `ratio` share of the rest. */
export function hftRoundSelection(units: readonly HftUnit[], ratio: number, rng: Rng): Set<string> {
  const trained = new Set(units.filter((u) => u.role === 'always').map((u) => u.path));
  const byCategory = new Map<string, Map<string, string[]>>();
  for (const u of units) {
    if (u.role !== 'half') continue;
    const blocks = byCategory.get(u.category) ?? new Map<string, string[]>();
    byCategory.set(u.category, blocks);
    blocks.set(u.block, [...(blocks.get(u.block) ?? []), u.path]);
  }
  for (const [category, blocks] of [...byCategory].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    for (const path of chooseCategoryMembers([...blocks.values()], ratio, rng.fork(category))) trained.add(path);
  }
  return trained;
}

/** HFT's hooks, with what each round trained. */
export interface HftHooks extends AdapterTrainingHooks {
  /** The rounds so far: the round number and the module paths that trained. */
  readonly rounds: ReadonlyArray<{ round: number; trained: string[] }>;
}

/** Options of {@link hftHooks}. */
export interface HftHooksOptions {
  /** Steps per round (the config's `roundSteps`, or an epoch). */
  roundSteps: number;
  /** The per-round choices draw from `rng.fork('round:<k>')`. */
  rng: Rng;
}

/**
 * Makes every leaf of `params` trainable and returns the hooks that, each round, hand the optimizer
 * no gradient for the frozen half (see the file comment for why not a zero gradient).
 */
export function hftHooks(model: Module, params: Params, config: Pick<HftConfig, 'ratio' | 'modulesToSave'>, options: HftHooksOptions): HftHooks {
  const units = hftUnits(model, params, config.modulesToSave);
  if (!units.some((u) => u.role === 'half')) throw new Error('HFT: every parameter matrix is in modulesToSave or an embedding; nothing is left to alternate');
  for (const u of units) for (const leaf of u.leaves) leaf.variable.trainable = true;
  const unitOf = new Map<tf.Variable, HftUnit>();
  for (const u of units) for (const leaf of u.leaves) unitOf.set(leaf.variable, u);
  const rounds: Array<{ round: number; trained: string[] }> = [];
  let current = -1;
  let trained = new Set<string>();
  let steps = 0;
  const totalHalf = units.filter((u) => u.role === 'half').reduce((n, u) => n + u.size, 0);
  let trainedHalf = 0;
  return {
    rounds,
    transformGradients(ctx): GradientList {
      const round = Math.floor(ctx.step / options.roundSteps);
      if (round !== current) {
        current = round;
        trained = hftRoundSelection(units, config.ratio, options.rng.fork(`round:${round}`));
        rounds.push({ round, trained: units.filter((u) => trained.has(u.path)).map((u) => u.path) });
      }
      steps++;
      trainedHalf += units.filter((u) => u.role === 'half' && trained.has(u.path)).reduce((n, u) => n + u.size, 0);
      return ctx.grads.map((g, i) => {
        const unit = unitOf.get(ctx.variables[i]);
        return unit && !trained.has(unit.path) ? null : g;
      });
    },
    summary: () => {
      const half = units.filter((u) => u.role === 'half').length;
      const share = steps > 0 ? (100 * trainedHalf) / (steps * totalHalf) : 0;
      return [`HFT: ${rounds.length} round${rounds.length === 1 ? '' : 's'} of ${options.roundSteps} steps; of ${half} alternating parameter matrices, ${share.toFixed(1)} % of their scalars trained per step on average`];
    },
    metrics: () => ({ hftRounds: rounds.length }),
  };
}

/** The HFT whole-model method (`method: hft`). */
export const hft: WholeModelMethod<HftConfig> = {
  name: 'hft',
  configName: 'HftConfig',
  description: 'HFT (Hui et al. 2024): full fine-tuning in rounds, half of the parameter matrices frozen each round',
  schema: hftSchema,
  apply(ctx) {
    const roundSteps = ctx.config.roundSteps ?? ctx.stepsPerEpoch;
    if (roundSteps === undefined) throw new Error('HftConfig.roundSteps is required here: without it a round is an epoch, and the caller did not say how many steps an epoch has');
    const rng = ctx.config.seed !== undefined ? new Rng(`hft:${ctx.config.seed}`) : ctx.rng.fork('hft');
    return { hooks: hftHooks(ctx.model, ctx.params, ctx.config, { roundSteps, rng }) };
  },
};

registerWholeModelMethod(hft);
