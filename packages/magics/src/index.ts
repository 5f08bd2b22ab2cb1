/**
 * @hyperlab/magics — experiment magics for the HyperLab kernel: `%%adapter`, `%%continual`, `%%hypernet`, `%%sweep`, `%%experiment`,
 * `%seed`, `%backend`, `%runs`, `%compare`. The kernel loads this package at start
 * (`HYPERLAB_EXTENSIONS`); elsewhere, `%load_ext @hyperlab/magics`.
 *
 * Registering is cheap: the compute core (and TensorFlow.js) loads when a magic first runs.
 */
import type { Magic, MagicRegistry } from '@hyperlab/kernel/magics';
import { adapterMagic } from './magics/adapter.js';
import { continualMagic } from './magics/continual.js';
import { hypernetMagic } from './magics/hypernet.js';
import { sweepMagic } from './magics/sweep.js';
import { backendMagic } from './magics/backend.js';
import { compareMagic } from './magics/compare.js';
import { experimentCellMagic } from './magics/experiment.js';
import { liveRateMagic, magicTemplatesMagic, reportMagic } from './magics/frontend.js';
import { runsMagic } from './magics/runs.js';
import { seedMagic } from './magics/seed.js';

/** Every magic of this package. */
export const MAGICS: readonly Magic[] = [adapterMagic, continualMagic, hypernetMagic, sweepMagic, experimentCellMagic, seedMagic, backendMagic, runsMagic, compareMagic, magicTemplatesMagic, liveRateMagic, reportMagic];

/** Adds this package's magics to a kernel's registry (what `%load_ext` calls). */
export function registerMagics(registry: MagicRegistry): void {
  for (const magic of MAGICS) registry.register(magic);
}

export { currentSeed } from './magics/seed.js';
export { MAGICS_MIME } from './magics/frontend.js';
export { type AdapterRun, type AdapterMagicConfig, adapterMagicSchema, ADAPTER_TEMPLATE } from './magics/adapter.js';
export { type ContinualRun, type ContinualMagicConfig, continualMagicSchema, CONTINUAL_TEMPLATE } from './magics/continual.js';
export { heatmapBundle, type HeatmapFigure } from './figures/heatmap.js';
export { type HypernetRun, type HyperAdaptersRun, type HypernetMagicConfig, hypernetMagicSchema, HYPERNET_TEMPLATE } from './magics/hypernet.js';
export { type SweepRun, type SweepTrialRun, type SweepMagicConfig, sweepMagicSchema, SWEEP_TEMPLATE } from './magics/sweep.js';
export { runSweep, type RunSweepOptions, type SweepEvent, type SweepOutcome, type TrialOutcome } from './sweep/loop.js';
export { createAlgorithm, type AlgorithmConfig } from './sweep/algorithms/index.js';
export { fitPowerLaw, predictPowerLaw, optimalPoints, type PowerLawFit } from './sweep/scaling.js';
export { LocalEngine, type LocalEngineOptions } from './sweep/local-engine.js';
export { InlineEngine } from './sweep/inline-engine.js';
export type { SweepEngine, TrialSpec, TrialResult, TrialReport } from './sweep/engine.js';
export { type ExperimentRun, outcomeOf } from './magics/experiment.js';
export { experimentMagic, experimentMagics, refuseCheckpoints, type ExperimentMagicSpec, type ExperimentContext, type ExperimentOutcome, type TemplateVariant, type TrialHooks } from './experiment-magic.js';
export { ConfigError, parseYamlBody, validateBody, type ConfigIssue, type JsonSchema } from './config/yaml-config.js';
export { figureBundle, plotlyJson, type LineFigure, type Series } from './figures/figure.js';
export { renderSvg } from './figures/svg.js';
export { LiveOutput, asDisplay } from './figures/live.js';
export { runCardBundle, runCardHtml, recordSummary } from './run-card.js';
export { session, MagicSession, type SessionRun } from './session.js';
