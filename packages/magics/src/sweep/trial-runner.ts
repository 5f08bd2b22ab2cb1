/**
 * Runs one sweep trial (or trial segment) in this process: the trial's experiment magic `run`s
 * headless (see `headless.ts`) on its config and seed, with the segment's budget written into the
 * config at the sweep's resource key, its checkpoint to resume from and its intermediate reports
 * wired through the magic's {@link TrialHooks}; the result is its run record, named after the
 * trial, and the checkpoint the magic left. This is what {@link runTrialHere} (and so every
 * engine's worker) calls.
 */
import { outcomeRecord, type ExperimentMagicSpec, type TrialHooks } from '../experiment-magic.js';
import { headlessContext } from './headless.js';
import type { TrialReport, TrialResult, TrialSpec } from './engine.js';

/**
 * The magics that make and resume checkpoints (PBT's exploit, resumed ASHA promotions). Trials of
 * others run from scratch; asking them for a checkpoint fails the trial.
 */
export const CHECKPOINT_MAGICS: ReadonlySet<TrialSpec['magic']> = new Set(['adapter']);

/** The spec of a trial's magic (loaded on demand: a worker imports only what it runs). */
async function magicSpec(magic: TrialSpec['magic']): Promise<ExperimentMagicSpec<never>> {
  switch (magic) {
    case 'adapter':
      return (await import('../magics/adapter.js')).adapterMagicSpec as ExperimentMagicSpec<never>;
    case 'continual':
      return (await import('../magics/continual.js')).continualMagicSpec as ExperimentMagicSpec<never>;
    case 'hypernet':
      return (await import('../magics/hypernet.js')).hypernetMagicSpec as ExperimentMagicSpec<never>;
    default:
      throw new Error(`unknown trial magic "${String(magic)}" (adapter, continual or hypernet)`);
  }
}

/**
 * A copy of `config` with `value` at the dotted `key` (mappings on the way created, or copied when
 * present). Throws when something on the way is not a mapping.
 */
export function withConfigValue(config: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  const parts = key.split('.');
  if (parts.some((part) => part === '')) throw new Error(`the sweep's resource key "${key}" is not a dotted config path like train.epochs`);
  const root: Record<string, unknown> = { ...config };
  let node = root;
  for (const [i, part] of parts.entries()) {
    if (i === parts.length - 1) {
      node[part] = value;
      break;
    }
    const next = node[part];
    if (next !== undefined && (next === null || typeof next !== 'object' || Array.isArray(next))) {
      throw new Error(`the sweep's resource key "${key}" goes through ${parts.slice(0, i + 1).join('.')}, which is not a mapping in the config`);
    }
    node = node[part] = { ...((next as Record<string, unknown> | undefined) ?? {}) };
  }
  return root;
}

/** The trial's config with its segment's budget written in at the resource key (when the spec names one). */
function segmentConfig(spec: TrialSpec): Record<string, unknown> {
  const config = { ...spec.config, seed: spec.seed };
  if (spec.budget === undefined || spec.resourceKey === undefined) return config;
  return withConfigValue(config, spec.resourceKey, spec.budget);
}

/** Runs `spec` here; see {@link runTrialHere}. */
export async function runTrial(spec: TrialSpec, options: { signal: AbortSignal; onReport?: (r: TrialReport) => void }): Promise<TrialResult> {
  options.signal.throwIfAborted();
  const magic = await magicSpec(spec.magic);
  const name = `${spec.sweepId}/${spec.trialId}`;
  const { config, ctx } = await headlessContext(magic, segmentConfig(spec), { magic: spec.magic, name, seed: spec.seed, signal: options.signal });
  const segment = spec.segment ?? 0;
  const trial: TrialHooks = {
    report: (step, metrics) => options.onReport?.({ trialId: spec.trialId, segment, step, metrics }),
    // A budgeted segment may be resumed (ASHA's promotion, PBT's next interval or exploit).
    wantCheckpoint: spec.wantCheckpoint ?? (spec.budget !== undefined ? 'if-possible' : false),
    ...(spec.checkpoint !== undefined ? { resume: spec.checkpoint } : {}),
  };
  const outcome = await magic.run(config, { ...ctx, trial });
  const record = await outcomeRecord({ magicName: spec.magic, name, seed: spec.seed, outcome });
  return {
    trialId: spec.trialId,
    attempt: 1,
    segment,
    record: JSON.parse(JSON.stringify(record)),
    metrics: outcome.metrics,
    ...(outcome.checkpoint !== undefined ? { checkpoint: outcome.checkpoint } : {}),
  };
}
