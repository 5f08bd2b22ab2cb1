/**
 * Runs one sweep trial in this process: the trial's experiment magic `run`s headless (see
 * `headless.ts`) on its config and seed, and the result is its run record, named after the
 * trial. This is what {@link runTrialHere} (and so every engine's worker) calls.
 */
import { outcomeRecord, type ExperimentMagicSpec } from '../experiment-magic.js';
import { headlessContext } from './headless.js';
import type { TrialReport, TrialResult, TrialSpec } from './engine.js';

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

/** Runs `spec` here; see {@link runTrialHere}. */
export async function runTrial(spec: TrialSpec, options: { signal: AbortSignal; onReport?: (r: TrialReport) => void }): Promise<TrialResult> {
  options.signal.throwIfAborted();
  const magic = await magicSpec(spec.magic);
  const name = `${spec.sweepId}/${spec.trialId}`;
  const { config, ctx } = await headlessContext(magic, { ...spec.config, seed: spec.seed }, { magic: spec.magic, name, seed: spec.seed, signal: options.signal });
  const outcome = await magic.run(config, ctx);
  const record = await outcomeRecord({ magicName: spec.magic, name, seed: spec.seed, outcome });
  return { trialId: spec.trialId, attempt: 1, record: JSON.parse(JSON.stringify(record)), metrics: outcome.metrics };
}
