/**
 * `%%sweep [--as NAME]`: hyperparameter search over any experiment magic. The YAML body names the
 * experiment (`magic: adapter | continual | hypernet` and its config as `base:`), a search space
 * over keys of that config, the objective, the budget, the algorithm (grid, random, ASHA, PBT, TPE;
 * `sweep/algorithms/`) and where trials run (`engine:` local child processes by default, `inline`
 * in the kernel, or `{ redis: URL }` for `hyperlab worker`s anywhere). It shows live every trial's
 * curve and the best so far, then a parallel-coordinates plot, the trials' table (best first) and,
 * with `scaling:`, a power-law fit with confidence intervals; the run record holds every trial's
 * record and the algorithm's decisions, ordered by trial id so a parallel sweep verifies.
 *
 * Papers: Li et al. 2020 (ASHA), Jaderberg et al. 2017 (PBT), Bergstra et al. 2011 (TPE), Kaplan
 * et al. 2020 and "Predictable Scale: Part I" (arXiv:2503.04715) for the power-law fits.
 */
import { availableParallelism } from 'node:os';
import type * as Core from '@hyperlab/core';
import { configIssue, ConfigError, validateBody, type ConfigIssue, type JsonSchema, type ParsedBody } from '../config/yaml-config.js';
import { experimentMagic, experimentMagics, type ExperimentContext, type ExperimentMagicSpec, type ExperimentOutcome } from '../experiment-magic.js';
import { figureBundle } from '../figures/figure.js';
import { asDisplay, LiveOutput } from '../figures/live.js';
import { ensureBackend, loadCore } from '../session.js';
import { buildModel } from '../training/model.js';
import { algorithmSchema, createAlgorithm, type AlgorithmConfig } from '../sweep/algorithms/index.js';
import type { Objective } from '../sweep/algorithms/algorithm.js';
import type { SweepEngine, TrialSpec } from '../sweep/engine.js';
import { InlineEngine } from '../sweep/inline-engine.js';
import { runSweep, type SweepEvent, type SweepOutcome } from '../sweep/loop.js';
import { fitPowerLaw, optimalPoints, predictPowerLaw, type PowerLawFit } from '../sweep/scaling.js';
import { bestSoFarFigure, parallelCoordinatesBundle, trialCurvesFigure, trialsTableBundle, trialValue, scalingBundle, type TrialCurves } from '../sweep/sweep-figures.js';
import { leadingPath, parseSearchSpace, searchSpaceSchema, SearchSpaceError, splitPath, type SearchSpace } from '../sweep/space.js';
import { TRIAL_CONFIG } from '../sweep/headless.js';

/** The experiment magics a sweep can run. */
const TRIAL_MAGICS = ['adapter', 'continual', 'hypernet'] as const;

/** What each magic optimises and trains over unless the body says otherwise. */
const DEFAULTS: Record<TrialSpec['magic'], { objective: Objective; resource: string }> = {
  adapter: { objective: { metric: 'accuracy', mode: 'max' }, resource: 'train.epochs' },
  continual: { objective: { metric: 'acc', mode: 'max' }, resource: 'train.iterations' },
  hypernet: { objective: { metric: 'acc', mode: 'max' }, resource: 'train.iterations' },
};

/** A validated `engine:` section. */
export type EngineConfig = 'local' | 'inline' | { local: { concurrency?: number } } | { redis: string; queue?: string };

/** A validated `%%sweep` body. */
export interface SweepMagicConfig {
  magic: TrialSpec['magic'];
  base: Record<string, unknown>;
  space: Record<string, unknown>;
  objective?: Objective;
  algorithm: AlgorithmConfig;
  budget: { trials?: number; concurrency?: number };
  resource?: string;
  engine: EngineConfig;
  scaling?: { y: string; x: Record<string, string | Array<string | number>>; confidence: number };
  seed?: number;
}

/** A trial as the `--as` variable holds it. */
export interface SweepTrialRun {
  /** `<sweep>/<trialId>`, also its name for `%compare`. */
  name: string;
  trialId: string;
  params: Record<string, unknown>;
  metrics?: Record<string, number>;
  /** The objective's value. */
  value?: number;
  /** Its last segment's run record. */
  record?: import('@hyperlab/core/runs').RunRecord;
}

/** What `--as NAME` holds after `%%sweep`. */
export interface SweepRun {
  name: string;
  /** best (the objective's best value), trials, segments, failed, and `best/<metric>` of the best trial. */
  metrics: Record<string, number>;
  record: import('@hyperlab/core/runs').RunRecord;
  /** The whole outcome: trials by id with their segments, the decisions, the best trial. */
  outcome: SweepOutcome;
  /** The trials, by id. */
  trials: SweepTrialRun[];
  /** The best trial, if any finished. */
  best?: SweepTrialRun;
  /** The power-law fit, with `scaling:`. */
  scaling?: PowerLawFit;
}

function baseSchema(): JsonSchema {
  // The base is validated against the chosen magic's own schema when the sweep starts (errors at base.* lines).
  return { type: 'object', description: "a mapping: the experiment magic's YAML config, as its cell body would be" };
}

/** The JSON Schema of a `%%sweep` body. */
export function sweepMagicSchema(): JsonSchema {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: '%%sweep',
    type: 'object',
    description: 'a YAML mapping with magic, base, space, objective, algorithm, budget, engine, resource, scaling and seed',
    required: ['magic', 'base', 'space'],
    additionalProperties: false,
    properties: {
      magic: { enum: [...TRIAL_MAGICS], description: `the experiment every trial runs: ${TRIAL_MAGICS.join(', ')}` },
      base: baseSchema(),
      space: searchSpaceSchema,
      objective: {
        type: 'object',
        description: 'a mapping { metric, mode: max | min } (default: accuracy, max; %%continual: acc)',
        required: ['metric'],
        additionalProperties: false,
        properties: { metric: { type: 'string', minLength: 1, description: 'a metric of the trial records' }, mode: { enum: ['max', 'min'], default: 'max' } },
      },
      algorithm: { ...algorithmSchema, default: 'random' },
      budget: {
        type: 'object',
        description: 'a mapping { trials, concurrency }',
        default: {},
        additionalProperties: false,
        properties: {
          trials: { type: 'integer', minimum: 1, description: 'configurations to try (PBT: the population; grid: default the grid size)' },
          concurrency: { type: 'integer', minimum: 1, description: 'trials at once (default: the number of cores; Redis: the workers in all)' },
        },
      },
      resource: { type: 'string', minLength: 1, description: 'the config key a segment budget sets (default train.epochs for %%adapter, train.iterations for %%continual and %%hypernet)' },
      engine: {
        description: 'local (child processes, the default), inline (in the kernel, one at a time), { local: { concurrency } } or { redis: redis://host:port, queue }',
        default: 'local',
        anyOf: [
          { enum: ['local', 'inline'] },
          { type: 'object', required: ['local'], additionalProperties: false, properties: { local: { type: 'object', additionalProperties: false, properties: { concurrency: { type: 'integer', minimum: 1 } } } } },
          { type: 'object', required: ['redis'], additionalProperties: false, properties: { redis: { type: 'string', pattern: '^rediss?://' }, queue: { type: 'string', minLength: 1 } } },
        ],
      },
      scaling: {
        type: 'object',
        description: 'a mapping { y, x: { NAME: key }, confidence }: fit y = a·Π xᵢ^bᵢ; y a searched key (its best value per x group) or a metric',
        required: ['y', 'x'],
        additionalProperties: false,
        properties: {
          y: { type: 'string', minLength: 1 },
          x: {
            type: 'object',
            minProperties: 1,
            additionalProperties: { anyOf: [{ type: 'string', minLength: 1 }, { type: 'array', minItems: 1, items: { anyOf: [{ type: 'string', minLength: 1 }, { type: 'number', exclusiveMinimum: 0 }] } }] },
            description: 'predictor name → a searched key, a metric or a base config key, or a list of those and numbers multiplied (compute: [6, totalParams, steps, train.batchSize])',
          },
          confidence: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1, default: 0.95 },
        },
      },
      seed: { type: 'integer', description: 'an integer (default: %seed)' },
    },
  };
}

/** The commented starting point for `%%sweep`. */
export const SWEEP_TEMPLATE = `magic: adapter              # adapter | continual | hypernet
base:                       # that magic's config, as its cell body would be
  model: { mlp: [784, 64, 10] }
  data: { dataset: mnist, train: 2000, test: 500 }
  adapter: { method: full }
  train: { epochs: 4, lr: 0.001 }
space:                      # keys of base → uniform | loguniform | int | choice | grid
  train.lr: { loguniform: [0.0001, 0.03] }
  model.mlp[1]: { choice: [32, 64, 128] }
objective: { metric: accuracy, mode: max }
algorithm: { name: asha, gracePeriod: 1, reductionFactor: 2, maxT: 4 }   # grid | random | asha | pbt | tpe
resource: train.epochs      # what a segment's budget sets (ASHA rungs, PBT intervals)
budget: { trials: 8, concurrency: 2 }
engine: local               # local | inline | { redis: redis://127.0.0.1:6379 }
seed: 0
`;

/**
 * A failed trial's message for the sweep cell. A trial's ConfigError names keys of the config the
 * trial ran (base with its values filled in), which has no cell; each issue is pointed at the
 * sweep cell's line that set the key: its `space` entry when the key (or a parent) is searched,
 * else its `base` value (or that of the deepest parent written there). Other errors: their first line.
 */
export function trialFailureText(message: string, parsed: ParsedBody, searched: readonly string[]): string {
  const [head, ...rest] = message.split('\n');
  if (!head.endsWith(`${TRIAL_CONFIG}:`)) return head;
  const issues = rest
    .map((line) => line.trim())
    .filter(Boolean)
    .map((issue) => {
      const token = leadingPath(issue);
      if (!token) return `  ${issue}`;
      const key = searched.filter((k) => token === k || token.startsWith(`${k}.`) || token.startsWith(`${k}[`)).sort((a, b) => b.length - a.length)[0];
      if (key !== undefined) return `  cell line ${parsed.locate(['space', key], true).line} (space ${key}): ${issue}`;
      return `  cell line ${parsed.locate(['base', ...splitPath(token)]).line} (base.${token}): ${issue}`;
    });
  return [head, ...issues].join('\n');
}

/** The base validated against its magic's schema, with errors at `base.*` lines. */
function validateBase(parsed: ParsedBody, magic: ExperimentMagicSpec<never>, base: Record<string, unknown>, where: { magic: string; firstLine: number }): Record<string, unknown> {
  const schema = { ...magic.schema() };
  delete schema.$schema;
  const sub: ParsedBody = { value: base, locate: (path, key) => parsed.locate(['base', ...path], key), aliases: parsed.aliases };
  try {
    return validateBody<Record<string, unknown>>(sub, schema, where);
  } catch (error) {
    if (error instanceof ConfigError) {
      throw new ConfigError(where.magic, error.issues.map((issue) => ({ ...issue, path: issue.path ? `base.${issue.path}` : 'base', message: issue.message.replace(/^(\S+)/, (p) => (issue.path && p.startsWith(issue.path) ? `base.${p}` : p)) })));
    }
    throw error;
  }
}

/**
 * A base `model:` that names an earlier run or a notebook variable: trials run elsewhere, so the
 * model travels with them as its starting weights (base64 safetensors).
 */
async function inlineModel(core: typeof Core, base: Record<string, unknown>, ctx: ExperimentContext): Promise<Record<string, unknown> | undefined> {
  if (typeof base.model !== 'string') return undefined;
  const name = base.model;
  const built = await buildModel(core, name, new core.Rng(0), {
    session: ctx.session,
    variable: (v) => ctx.magic.runCode(v),
    fail: (message) => ctx.fail(['base', 'model'], `base.model: ${message}`),
  });
  const bytes = core.encodeSafetensors(core.flatten(built.params));
  const recorded = { ...built.recorded };
  for (const leaf of core.flatten(built.params).values()) leaf.dispose();
  return { model: { mlp: built.model.sizes, activation: built.model.activation, dropout: built.model.dropout, bias: recorded.bias, weights: Buffer.from(bytes).toString('base64'), from: name }, recorded };
}

async function engineOf(config: SweepMagicConfig, ctx: ExperimentContext): Promise<SweepEngine> {
  const engine = config.engine;
  if (engine === 'inline') return new InlineEngine();
  if (typeof engine === 'object' && 'redis' in engine) {
    const { RedisEngine } = await import('../sweep/redis-engine.js');
    return new RedisEngine({ url: engine.redis, ...(engine.queue ? { queue: engine.queue } : {}), ...(config.budget.concurrency ? { concurrency: config.budget.concurrency } : {}) });
  }
  const { LocalEngine } = await import('../sweep/local-engine.js');
  const concurrency = (typeof engine === 'object' ? engine.local.concurrency : undefined) ?? config.budget.concurrency ?? availableParallelism();
  return new LocalEngine({ concurrency, log: (line) => ctx.magic.print(line) });
}

/** A nested record as the sweep record keeps it: what is reproducible, without its curves (its hash covers them). */
function compactRecord(record: unknown): Record<string, unknown> | undefined {
  if (!record || typeof record !== 'object') return undefined;
  const r = record as Record<string, unknown> & { backend?: { name?: string }; data?: Array<{ fingerprint: string }> };
  return { name: r.name, config: r.config, seed: r.seed, backend: r.backend?.name, data: r.data?.map((d) => d.fingerprint), metrics: r.metrics, contentHash: r.contentHash };
}

function fitScaling(config: NonNullable<SweepMagicConfig['scaling']>, outcome: SweepOutcome, base: Record<string, unknown>, searched: Set<string>, ctx: ExperimentContext) {
  const names = Object.keys(config.x);
  const rows: Array<Record<string, number>> = [];
  for (const trial of outcome.trials) {
    const row: Record<string, number> = {};
    for (const n of names) {
      const v = trialValue(trial, base, config.x[n]);
      if (v !== undefined) row[n] = v;
    }
    const y = trialValue(trial, base, config.y);
    if (y !== undefined) row.y = y;
    if (trial.value !== undefined) row.__objective = trial.value;
    if (Object.keys(row).length === names.length + 2) rows.push(row);
  }
  for (const [n, key] of [...Object.entries(config.x), ['y', config.y] as const]) {
    if (!outcome.trials.some((t) => trialValue(t, base, key) !== undefined)) {
      ctx.fail(n === 'y' ? ['scaling', 'y'] : ['scaling', 'x', n], `scaling: ${JSON.stringify(key)} is not a number in any trial (a searched key, a metric of the trials or a key of base${typeof key === 'string' ? '' : ', each factor'})`);
    }
  }
  // y a searched hyperparameter: fit its best value per combination of the predictors (the optimum).
  const points = searched.has(config.y) ? optimalPoints(rows, { groupBy: names, objective: { metric: '__objective', mode: outcome.objective.mode } }) : rows;
  try {
    const fit = fitPowerLaw({ y: points.map((p) => p.y), x: Object.fromEntries(names.map((n) => [n, points.map((p) => p[n])])) }, { confidence: config.confidence });
    return { fit, points: points.map((p) => ({ x: Object.fromEntries(names.map((n) => [n, p[n]])), y: p.y })) };
  } catch (error) {
    return ctx.fail(['scaling'], `scaling: ${(error as Error).message} (${points.length} points${searched.has(config.y) ? `: the best ${config.y} for each combination of ${names.join(', ')}` : ''})`);
  }
}

/** `%%sweep`. */
export const sweepMagicSpec: ExperimentMagicSpec<SweepMagicConfig> = {
  name: 'sweep',
  help: 'Search hyperparameters of an experiment magic (grid, random, ASHA, PBT, TPE) on local processes or Redis workers, with live curves, a table and power-law fits: %%sweep [--as NAME].',
  template: SWEEP_TEMPLATE,
  variableType: 'import("@hyperlab/magics").SweepRun',
  schema: sweepMagicSchema,
  async run(config, ctx) {
    const started = performance.now();
    const where = { magic: 'sweep', firstLine: ctx.magic.line };
    const trialMagic = experimentMagics.get(config.magic) ?? ctx.fail(['magic'], `magic: "${config.magic}" is not loaded`);
    const core = loadCore();
    await ensureBackend(core);
    // The base config: a named model travels as its weights; then the magic's own schema.
    const inlined = await inlineModel(core, config.base, ctx);
    // Validated on a copy (validation fills in defaults): the trials get the base as written, since
    // defaults of one branch of a magic's schema (`beta` of learn: continual) are unknown keys in another.
    const base: Record<string, unknown> = structuredClone(inlined ? { ...config.base, model: inlined.model } : config.base);
    const validated = validateBase(ctx.parsed, trialMagic, structuredClone(base), where);
    let space: SearchSpace;
    try {
      space = parseSearchSpace(config.space);
    } catch (error) {
      if (error instanceof SearchSpaceError) throw new ConfigError('sweep', error.issues.map((issue): ConfigIssue => configIssue(ctx.parsed, ['space', issue.key], issue.message)));
      throw error;
    }
    const defaults = DEFAULTS[config.magic];
    const objective: Objective = config.objective ?? defaults.objective;
    const resourceKey = config.resource ?? defaults.resource;
    const searched = new Set(space.dimensions.map((d) => d.key));
    // PBT resumes members from copied checkpoints: a key it perturbs must not change the model's shape.
    if (typeof config.algorithm === 'object' && config.algorithm.name === 'pbt') {
      const mutate = config.algorithm.mutate ?? [...searched];
      const shaped = mutate.filter((key) => key.startsWith('model.'));
      if (shaped.length) ctx.fail(['algorithm'], `algorithm: PBT copies checkpoints between members, so it cannot perturb ${shaped.join(', ')} (a different shape does not fit the checkpoint); list the keys it may change in algorithm.mutate`);
    }
    let algorithm;
    try {
      algorithm = createAlgorithm(config.algorithm, space, objective, { seed: ctx.seed, ...(config.budget.trials !== undefined ? { trials: config.budget.trials } : {}) });
    } catch (error) {
      return ctx.fail(['algorithm'], `algorithm: ${(error as Error).message}`);
    }
    const engine = await engineOf(config, ctx);

    // Live: a progress line, every trial's curve, the best so far.
    const curves: TrialCurves = { byTrial: new Map(), best: { step: [], value: [] } };
    let finished = 0;
    let failed = 0;
    const failures = new Map<string, string>();
    let bestText = 'no result yet';
    const running = new Set<string>();
    const progress = new LiveOutput(ctx.magic, ctx.session.liveRate);
    const curvesOut = new LiveOutput(ctx.magic, ctx.session.liveRate);
    const bestOut = new LiveOutput(ctx.magic, ctx.session.liveRate);
    const status = () => ({ 'text/plain': `${ctx.name}: ${finished} segments finished${failed ? `, ${failed} failed` : ''} · running ${[...running].join(', ') || 'none'} · best ${bestText}` });
    const curveOf = (trialId: string) => {
      let c = curves.byTrial.get(trialId);
      if (!c) curves.byTrial.set(trialId, (c = { step: [], value: [] }));
      return c;
    };
    const onEvent = (event: SweepEvent): void => {
      if (event.type === 'trial-start') running.add(`${event.trialId}#${event.segment}`);
      else if (event.type === 'report' && typeof event.metrics[objective.metric] === 'number') {
        const c = curveOf(event.trialId);
        c.step.push(event.step);
        c.value.push(event.metrics[objective.metric]);
        curvesOut.offer(() => figureBundle(trialCurvesFigure(`${ctx.name}: ${objective.metric} of each trial`, objective, curves)));
      } else if (event.type === 'result') {
        running.delete(`${event.trialId}#${event.segment}`);
        if (!(objective.metric in event.metrics)) {
          throw new Error(`the objective metric "${objective.metric}" is not among trial ${event.trialId}'s metrics (${Object.keys(event.metrics).join(', ')}); set objective.metric`);
        }
        finished++;
        if (event.best) {
          curves.best.step.push(finished);
          curves.best.value.push(event.best.value);
          bestText = `${objective.metric} ${event.best.value.toPrecision(4)} (${event.best.trialId})`;
          bestOut.offer(() => figureBundle(bestSoFarFigure(ctx.name, objective, curves)));
        }
      } else if (event.type === 'trial-error') {
        running.delete(`${event.trialId}#${event.segment}`);
        failed++;
        ctx.magic.print(`${ctx.name}: trial ${event.trialId} segment ${event.segment} failed: ${trialFailureText(event.message, ctx.parsed, [...searched])}`);
        failures.set(event.trialId, event.message);
      } else if (event.type === 'decision' && event.decision.kind !== 'suggest') {
        // A failure's decision quotes the error, which the line above has shown already.
        const error = event.decision.kind === 'failed' ? failures.get(event.decision.trialId) : undefined;
        const reason = error ? event.decision.reason.replace(error, 'the error above') : event.decision.reason;
        ctx.magic.print(`${ctx.name}: ${event.decision.kind} ${event.decision.trialId}: ${reason}`);
      }
      progress.offer(status);
    };
    progress.offer(status);
    let outcome: SweepOutcome;
    try {
      outcome = await runSweep({ algorithm, engine, magic: config.magic, base, objective, seed: ctx.seed, sweepId: ctx.name, resourceKey, signal: ctx.magic.signal, onEvent });
    } finally {
      await engine.close();
    }
    progress.finish(status);
    curvesOut.finish();
    bestOut.finish();
    ctx.magic.display(asDisplay(trialsTableBundle(ctx.name, space, outcome)));
    if (outcome.status === 'interrupted') {
      const error = new Error(`the sweep was interrupted after ${finished} segments; running trials were stopped, and no sweep was recorded`);
      error.name = 'KeyboardInterrupt';
      error.stack = `${error.name}: ${error.message}`;
      throw error;
    }
    if (outcome.trials.some((t) => t.value !== undefined)) ctx.magic.display(asDisplay(parallelCoordinatesBundle(ctx.name, space, outcome)));

    // Trials as runs of their own (for %compare), and the sweep's record.
    const trials: SweepTrialRun[] = outcome.trials.map((t) => {
      const last = [...t.segments].reverse().find((s) => s.record !== undefined);
      const record = last?.record as SweepTrialRun['record'];
      return { name: `${ctx.name}/${t.trialId}`, trialId: t.trialId, params: t.params, ...(t.metrics ? { metrics: t.metrics } : {}), ...(t.value !== undefined ? { value: t.value } : {}), ...(record ? { record } : {}) };
    });
    for (const trial of trials) if (trial.record) ctx.session.add({ name: trial.name, magic: config.magic, record: trial.record, value: { ...trial } });
    let scaling: { fit: PowerLawFit; points: Array<{ x: Record<string, number>; y: number }> } | undefined;
    if (config.scaling) {
      scaling = fitScaling(config.scaling, outcome, validated, searched, ctx);
      const fit = scaling.fit;
      ctx.magic.display(asDisplay(scalingBundle(`${ctx.name}: ${config.scaling.y} against ${Object.keys(config.scaling.x).join(', ')}`, fit, scaling.points, (x) => predictPowerLaw(fit, x))));
    }
    // Best so far in trial-id order (finish order depends on the machine; the record must not).
    const ordered = outcome.trials.filter((t) => t.value !== undefined);
    const bestCurve = { step: [] as number[], value: [] as number[] };
    for (const [i, t] of ordered.entries()) {
      const previous = bestCurve.value.at(-1);
      bestCurve.step.push(i);
      bestCurve.value.push(previous === undefined || (objective.mode === 'max' ? t.value! > previous : t.value! < previous) ? t.value! : previous);
    }
    const recordCurves: Record<string, { step: number[]; value: number[] }> = { 'best-so-far': bestCurve };
    for (const t of outcome.trials) {
      const c = curves.byTrial.get(t.trialId);
      if (c && c.step.length) {
        // Reports of a trial's segments, in step order (segments of one trial never overlap).
        const order = c.step.map((_, i) => i).sort((a, b) => c.step[a] - c.step[b] || a - b);
        recordCurves[`trial/${t.trialId}/${objective.metric}`] = { step: order.map((i) => c.step[i]), value: order.map((i) => c.value[i]) };
      }
    }
    const best = outcome.best;
    const metrics: Record<string, number> = {
      trials: outcome.trials.length,
      segments: outcome.trials.reduce((n, t) => n + t.segments.length, 0),
      failed: outcome.trials.filter((t) => t.status === 'failed').length,
      ...(best ? { best: best.value, ...Object.fromEntries(Object.entries(best.metrics).map(([k, v]) => [`best/${k}`, v])) } : {}),
    };
    if (scaling) {
      const fit = scaling.fit;
      metrics['scaling/coefficient'] = fit.coefficient.value;
      metrics['scaling/r2'] = fit.r2;
      for (const [n, e] of Object.entries(fit.exponents)) {
        metrics[`scaling/exponent/${n}`] = e.value;
        metrics[`scaling/exponent/${n}/ciLow`] = e.ci[0];
        metrics[`scaling/exponent/${n}/ciHigh`] = e.ci[1];
      }
    }
    const recorded: Record<string, unknown> = {
      ...config,
      base: inlined ? { ...validated, model: inlined.recorded } : validated,
      objective,
      resource: resourceKey,
      algorithm: outcome.algorithm,
      engine: typeof config.engine === 'object' && 'redis' in config.engine ? 'redis' : config.engine === 'inline' ? 'inline' : 'local',
      seed: ctx.seed,
    };
    // Where trials ran and how parallel is not part of what the sweep computed.
    delete recorded.budget;
    recorded.budget = { ...(config.budget.trials !== undefined ? { trials: config.budget.trials } : {}) };
    const sweepOutcome = {
      ...outcome,
      trials: outcome.trials.map((t) => ({ ...t, segments: t.segments.map((s) => ({ ...s, ...(s.record !== undefined ? { record: compactRecord(s.record) } : {}) })) })),
      ...(scaling ? { scaling: scaling.fit } : {}),
    };
    const bestTrial = best ? trials.find((t) => t.trialId === best.trialId) : undefined;
    const value: Omit<SweepRun, 'name' | 'metrics' | 'record'> = { outcome, trials, ...(bestTrial ? { best: bestTrial } : {}), ...(scaling ? { scaling: scaling.fit } : {}) };
    const result: ExperimentOutcome = {
      config: recorded,
      metrics,
      curves: recordCurves,
      outcome: JSON.parse(JSON.stringify(sweepOutcome)) as Record<string, unknown>,
      timings: { totalMs: performance.now() - started },
      value,
    };
    return result;
  },
};

/** The `%%sweep` cell magic. */
export const sweepMagic = experimentMagic(sweepMagicSpec);
