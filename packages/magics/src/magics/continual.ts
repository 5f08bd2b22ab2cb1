/**
 * `%%continual [--as NAME]`: train a model on a stream of experiences (Split, Permuted or Rotated
 * MNIST) under a scenario (task-, domain- or class-incremental, van de Ven & Tolias 2019,
 * arXiv 1904.07734) with a continual-learning strategy from `@hyperlab/core`'s `continual/`
 * (naive, joint, cumulative, EWC, online EWC, SI, MAS, LwF, replay, A-GEM, GDumb, generative
 * replay, per-task adapters; each file there cites its paper), showing live the accuracy matrix
 * R as a heatmap (a row per finished experience) and each experience's test accuracy over
 * training, and ending with a run card carrying R, ACC, BWT, FWT and forgetting (also under
 * Avalanche's metric names). The record holds the whole matrix as the curves `matrix/expJ`
 * (x: the experience just trained, y: accuracy on experience j), so `verify` checks every cell.
 */
import type * as Core from '@hyperlab/core';
import type { JsonSchema } from '../config/yaml-config.js';
import { experimentMagic, refuseCheckpoints, type ExperimentMagicSpec } from '../experiment-magic.js';
import { figureBundle, type LineFigure } from '../figures/figure.js';
import { heatmapBundle } from '../figures/heatmap.js';
import { LiveOutput } from '../figures/live.js';
import { ensureBackend, loadCore } from '../session.js';
import { buildModel, modelSchema, type ModelConfig } from '../training/model.js';

/** A validated `benchmark:` section. */
export interface BenchmarkConfig {
  name: 'split-mnist' | 'permuted-mnist' | 'rotated-mnist';
  nExperiences: number;
  train?: number;
  test?: number;
  fixedClassOrder?: number[];
  firstIdentity?: boolean;
  rotationsList?: number[];
}

/** A validated `train:` section of `%%continual`: the core's options and how often to evaluate. */
export type ContinualTrainConfig = Core.ContinualTrainOptions & { evalEvery: number };

/** A validated `%%continual` body. */
export interface ContinualMagicConfig {
  benchmark: BenchmarkConfig;
  scenario: Core.Scenario;
  model: ModelConfig;
  strategy: { name: string } & Record<string, unknown>;
  train: ContinualTrainConfig;
  seed?: number;
}

/** What `--as NAME` holds after `%%continual`. */
export interface ContinualRun {
  /** The run's name. */
  name: string;
  /** The model as trained on the whole stream. */
  model: Core.MlpModule;
  /** Its parameters. */
  params: Core.Params;
  /** R[i][j]: accuracy on experience j after training experience i. */
  matrix: number[][];
  /** Accuracy of the untrained model on each experience (the FWT baseline). */
  randomInit: number[];
  /** ACC, BWT, FWT, forgetting, and Avalanche's stream-level names. */
  metrics: Record<string, number>;
  /** Every metric under Avalanche's names (`Top1_Acc_Exp/eval_phase/test_stream/Task000/Exp001`, …). */
  avalanche: Record<string, number>;
  /** The benchmark as built: class order, permutations or rotations, experiences. */
  benchmark: Record<string, unknown>;
  /** The strategy's hyperparameters as run (defaults filled in). */
  strategy: Record<string, unknown>;
  /** The run record. */
  record: import('@hyperlab/core/runs').RunRecord;
}

/** Iterations per experience when neither `iterations` nor `epochs` is given. */
const DEFAULT_ITERATIONS = 500;

const SCENARIO_NAMES: Record<Core.Scenario, string> = { task: 'task-incremental', domain: 'domain-incremental', class: 'class-incremental' };

/** The `benchmark:` section's schema (shared with `%%hypernet`). */
export function benchmarkSchema(): JsonSchema {
  const common = {
    name: { enum: ['split-mnist', 'permuted-mnist', 'rotated-mnist'], description: 'split-mnist, permuted-mnist or rotated-mnist' },
    nExperiences: { type: 'integer', minimum: 1, default: 5, description: 'a positive integer (split-mnist: a divisor of 10)' },
    train: { type: 'integer', minimum: 1, description: 'training images per experience (default: all of them)' },
    test: { type: 'integer', minimum: 1, description: 'test images per experience (default: all of them)' },
  };
  const only = (name: string, extra: Record<string, unknown>): JsonSchema => ({
    if: { properties: { name: { const: name } }, required: ['name'] },
    then: { properties: { ...common, ...extra }, additionalProperties: false },
  });
  return {
    type: 'object',
    description: 'a mapping with a name key',
    required: ['name'],
    properties: common,
    allOf: [
      only('split-mnist', { fixedClassOrder: { type: 'array', items: { type: 'integer', minimum: 0, maximum: 9 }, minItems: 10, maxItems: 10, uniqueItems: true, description: 'the ten digits in the order the experiences take them' } }),
      only('permuted-mnist', { firstIdentity: { type: 'boolean', default: false, description: 'whether the first experience is unpermuted' } }),
      only('rotated-mnist', { rotationsList: { type: 'array', items: { type: 'number', minimum: -180, maximum: 180 }, minItems: 1, description: 'one angle in degrees per experience' } }),
    ],
  };
}

function strategySchema(core: typeof Core): JsonSchema {
  const names = core.STRATEGY_NAMES as readonly string[];
  const name = { enum: [...names], description: `the strategy: ${names.join(', ')}` };
  const branches = core.STRATEGY_NAMES.map((strategy) => {
    const schema = core.strategyJsonSchema(strategy) as { properties?: Record<string, unknown>; required?: string[] };
    return {
      if: { properties: { name: { const: strategy } }, required: ['name'] },
      then: { ...schema, properties: { ...(schema.properties ?? {}), name }, additionalProperties: false },
    };
  });
  return { type: 'object', description: 'a mapping with a name key', required: ['name'], properties: { name }, allOf: branches };
}

/** The core's training options table as a schema, with the magic's defaults and `evalEvery` (shared with `%%hypernet`). */
export function continualTrainSchema(core: typeof Core): JsonSchema {
  const schema = core.configJsonSchema(core.continualTrainSchema) as { properties: Record<string, Record<string, unknown>> };
  const properties = { ...schema.properties };
  properties.iterations = { ...properties.iterations, description: 'optimisation steps per experience (van de Ven & Tolias count iterations; default 500 unless epochs is given)' };
  properties.epochs = { ...properties.epochs, description: 'epochs per experience, instead of iterations' };
  delete properties.epochs.default;
  properties.batchSize = { ...properties.batchSize, default: 128 };
  properties.lr = { ...properties.lr, default: 0.001, description: 'a positive number' };
  properties.evalEvery = { type: 'integer', minimum: 0, default: 100, description: 'evaluate every experience this often (steps) for the curves; 0: only after each experience' };
  return { type: 'object', description: 'a mapping of training options (per experience)', default: {}, additionalProperties: false, properties };
}

/** The `scenario:` key's schema (shared with `%%hypernet`). */
export const SCENARIO_SCHEMA: JsonSchema = { enum: ['task', 'domain', 'class'], description: 'task (multi-head, task label given), domain (one shared head) or class (one head over every class seen so far)' };

/** Strategies that pick their per-task part by the task label. */
const NEEDS_TASK_LABELS = new Set(['adapters']);

/** Why a scenario needs the output width it needs. */
function outputsReason(benchmark: Core.Benchmark, scenario: Core.Scenario): string {
  const n = benchmark.experiences.length;
  const per = benchmark.nClassesPerExperience;
  if (benchmark.kind === 'split') {
    if (scenario === 'domain') return `one shared head of ${per} units, a unit per position within an experience`;
    return `a unit per digit, ${benchmark.nClasses} in all${scenario === 'task' ? ', each task using its own two' : ''}`;
  }
  if (scenario === 'domain') return `one shared head of ${per} digits`;
  return `a block of ${per} units per experience, ${n} blocks`;
}

/** The JSON Schema of a `%%continual` body. */
export function continualMagicSchema(core: typeof Core): JsonSchema {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: '%%continual',
    type: 'object',
    description: 'a YAML mapping with benchmark, scenario, model, strategy, train and seed',
    required: ['benchmark', 'scenario', 'model', 'strategy'],
    additionalProperties: false,
    properties: {
      benchmark: benchmarkSchema(),
      scenario: SCENARIO_SCHEMA,
      model: modelSchema(),
      strategy: strategySchema(core),
      train: continualTrainSchema(core),
      seed: { type: 'integer', description: 'an integer (default: %seed)' },
    },
  };
}

/** The commented starting point for `%%continual`. */
export const CONTINUAL_TEMPLATE = `benchmark:
  name: split-mnist        # split-mnist | permuted-mnist | rotated-mnist
  nExperiences: 5
  train: 1000              # training images per experience (default: all)
  test: 500
scenario: class            # task | domain | class
model:
  mlp: [784, 400, 400, 10] # the output width the scenario needs (here 10 classes)
strategy:
  name: replay             # naive | joint | cumulative | ewc | online-ewc | si | mas | lwf | replay | agem | gdumb | generative-replay | adapters | hnet
  memSize: 500
train:
  iterations: 300          # per experience
  batchSize: 128
  optimizer: adam
  lr: 0.001
  evalEvery: 100
seed: 0
`;

let cachedSchema: JsonSchema | undefined;

const percent = (value: number): string => `${(100 * value).toFixed(2)} %`;

/** `%%continual`. */
export const continualMagicSpec: ExperimentMagicSpec<ContinualMagicConfig> = {
  name: 'continual',
  help: 'Continual learning on Split/Permuted/Rotated MNIST (task-, domain-, class-incremental) with naive, EWC, SI, LwF, replay, A-GEM, GDumb, DGR, … from a YAML config: %%continual [--as NAME].',
  template: CONTINUAL_TEMPLATE,
  variableType: 'import("@hyperlab/magics").ContinualRun',
  schema: () => (cachedSchema ??= continualMagicSchema(loadCore())),
  async run(config, ctx) {
    refuseCheckpoints(ctx.trial, '%%continual');
    const core = loadCore();
    await ensureBackend(core);
    const { benchmark: bench, scenario, strategy, train } = config;
    if (train.iterations !== undefined && train.epochs !== undefined) ctx.fail(['train', 'epochs'], 'train: give iterations or epochs, not both');
    if (bench.name === 'split-mnist' && 10 % bench.nExperiences !== 0) ctx.fail(['benchmark', 'nExperiences'], `benchmark.nExperiences must divide 10 for split-mnist (1, 2, 5 or 10); got ${bench.nExperiences}`);
    if (bench.name === 'rotated-mnist' && bench.rotationsList && bench.rotationsList.length !== bench.nExperiences) {
      ctx.fail(['benchmark', 'rotationsList'], `benchmark.rotationsList has ${bench.rotationsList.length} angles for ${bench.nExperiences} experiences`);
    }
    if (NEEDS_TASK_LABELS.has(strategy.name) && scenario !== 'task') {
      ctx.fail(['strategy', 'name'], `strategy ${strategy.name} chooses its per-task part by the task label, which the ${SCENARIO_NAMES[scenario]} scenario does not give; use scenario: task`);
    }
    const rng = new core.Rng(ctx.seed);
    const built = await buildModel(core, config.model, rng, {
      session: ctx.session,
      variable: (name) => ctx.magic.runCode(name),
      fail: (message) => ctx.fail(['model'], `model: ${message}`),
    });
    let benchmark: Core.Benchmark;
    try {
      const common = { nExperiences: bench.nExperiences, seed: ctx.seed, returnTaskId: scenario === 'task', ...(bench.train ? { train: bench.train } : {}), ...(bench.test ? { test: bench.test } : {}) };
      benchmark =
        bench.name === 'split-mnist'
          ? core.splitMnist({ ...common, ...(bench.fixedClassOrder ? { fixedClassOrder: bench.fixedClassOrder } : {}) })
          : bench.name === 'permuted-mnist'
            ? core.permutedMnist({ ...common, firstIdentity: bench.firstIdentity ?? false })
            : core.rotatedMnist({ ...common, ...(bench.rotationsList ? { rotationsList: bench.rotationsList } : {}) });
    } catch (error) {
      return ctx.fail(['benchmark'], `benchmark: ${(error as Error).message}`);
    }
    try {
      const widths = built.model.sizes;
      const inputs = benchmark.experiences[0].train.featureShape.reduce((a, b) => a * b, 1);
      if (widths[0] !== inputs) ctx.fail(['model'], `model: the input width is ${widths[0]} but ${bench.name} images have ${inputs} pixels`);
      const outputs = core.scenarioOutputs(benchmark, scenario);
      if (widths[widths.length - 1] !== outputs) {
        ctx.fail(['model'], `model: the output width is ${widths[widths.length - 1]} but ${SCENARIO_NAMES[scenario]} ${bench.name} with ${bench.nExperiences} experiences needs ${outputs} (${outputsReason(benchmark, scenario)})`);
      }
      const memSize = strategy.memSize;
      const trainSize = benchmark.experiences.reduce((n, e) => n + e.train.size, 0);
      if (typeof memSize === 'number' && memSize > trainSize) ctx.fail(['strategy', 'memSize'], `strategy.memSize is ${memSize} but the whole stream has only ${trainSize} training examples`);
      return await runStream(core, config, ctx, benchmark, built);
    } finally {
      benchmark.dispose();
    }
  },
};

async function runStream(
  core: typeof Core,
  config: ContinualMagicConfig,
  ctx: Parameters<ExperimentMagicSpec<ContinualMagicConfig>['run']>[1],
  benchmark: Core.Benchmark,
  built: Awaited<ReturnType<typeof buildModel>>,
): Promise<Awaited<ReturnType<ExperimentMagicSpec<ContinualMagicConfig>['run']>>> {
  const { scenario, strategy, train } = config;
  const { evalEvery, ...trainOptions } = train;
  const n = benchmark.experiences.length;
  const labels = benchmark.experiences.map((e) => `exp ${e.index} (${e.classes.join(',')})`);
  const matrix: Array<Array<number | null>> = Array.from({ length: n }, () => new Array<number | null>(n).fill(null));
  const accuracy = benchmark.experiences.map(() => ({ step: [] as number[], value: [] as number[] }));
  const loss = { step: [] as number[], value: [] as number[] };
  const iterations = train.epochs === undefined ? (train.iterations ?? DEFAULT_ITERATIONS) : undefined;
  let status = `experience 0/${n}`;
  const progress = new LiveOutput(ctx.magic, ctx.session.liveRate);
  const heatmap = new LiveOutput(ctx.magic, ctx.session.liveRate);
  const curves = new LiveOutput(ctx.magic, ctx.session.liveRate);
  const title = `${ctx.name}: ${strategy.name}, ${SCENARIO_NAMES[scenario]} ${config.benchmark.name}`;
  const heat = (): Record<string, unknown> => heatmapBundle({ title: `${title}: accuracy matrix R (%)`, xTitle: 'evaluated on', yTitle: 'after training', x: labels, y: labels, z: matrix });
  const figure = (): LineFigure => ({
    title: `${title}: test accuracy per experience`,
    xTitle: 'step',
    yTitle: 'test accuracy',
    series: accuracy.map((c, j) => ({ name: labels[j], x: c.step, y: c.value, markers: c.step.length < 40 })),
  });
  progress.offer(() => ({ 'text/plain': status }));
  heatmap.offer(heat);
  const started = performance.now();
  const result = await core.runContinual({
    benchmark,
    scenario,
    model: built.model,
    params: built.params,
    strategy: strategy as Core.StrategyConfig,
    train: { ...trainOptions, ...(iterations !== undefined ? { iterations } : {}) },
    evalEvery,
    seed: ctx.seed,
    rng: new core.Rng(ctx.seed).fork('continual'),
    signal: ctx.magic.signal,
    onProgress(event) {
      if (event.type === 'step') {
        loss.step.push(event.step);
        loss.value.push(event.loss);
        status = `experience ${event.experience + 1}/${n} · step ${event.step} · loss ${event.loss.toFixed(4)} · ${((performance.now() - started) / 1000).toFixed(1)} s`;
        progress.offer(() => ({ 'text/plain': status }));
      } else if (event.type === 'eval') {
        event.accuracies.forEach((value, j) => {
          accuracy[j].step.push(event.step);
          accuracy[j].value.push(value);
        });
        curves.offer(() => figureBundle(figure()));
      } else if (event.type === 'experience-end') {
        matrix[event.experience] = [...event.row];
        heatmap.offer(heat);
        // A sweep reads the running ACC: mean accuracy over the experiences trained so far.
        const seen = event.row.slice(0, event.experience + 1);
        ctx.trial?.report(loss.step.at(-1) ?? 0, { acc: seen.reduce((a, b) => a + b, 0) / seen.length });
      }
    },
  });
  const metrics = result.metrics;
  status = result.stoppedBy === 'aborted'
    ? `interrupted in experience ${matrix.findIndex((row) => row[0] === null) + 1}/${n}`
    : `done: ${n} experiences · ACC ${percent(metrics.acc)} · BWT ${(100 * metrics.bwt).toFixed(2)} · FWT ${(100 * metrics.fwt).toFixed(2)} · forgetting ${(100 * metrics.forgetting).toFixed(2)} · ${(result.timings.totalMs / 1000).toFixed(1)} s`;
  progress.finish(() => ({ 'text/plain': status }));
  heatmap.finish(heat);
  curves.finish(() => figureBundle(figure()));
  if (result.stoppedBy === 'aborted') {
    const error = new Error('interrupted; the model keeps the weights of the last completed step, and no run was recorded');
    error.name = 'KeyboardInterrupt';
    error.stack = `${error.name}: ${error.message}`;
    throw error;
  }
  const recordCurves: Record<string, { step: number[]; value: number[] }> = { 'train/loss': result.curves.loss ?? loss, 'test/accuracy': streamAccuracy(result, n) };
  result.matrix[0].forEach((_, j) => {
    recordCurves[`matrix/exp${j}`] = { step: result.matrix.map((_, i) => i), value: result.matrix.map((row) => row[j]) };
    recordCurves[`test/accuracy/exp${j}`] = result.curves[`exp${j}/accuracy`] ?? accuracy[j];
  });
  // The record's metrics: ours and Avalanche's stream-level names (the per-experience ones are
  // the matrix's last row, in the curves, and all of them are in the variable's `avalanche`).
  const stream = Object.fromEntries(Object.entries(metrics.avalanche).filter(([name]) => /^(Top1_Acc_Stream|StreamForgetting|StreamBWT|StreamForwardTransfer)\//.test(name)));
  const flat: Record<string, number> = {
    acc: metrics.acc,
    bwt: metrics.bwt,
    fwt: metrics.fwt,
    forgetting: metrics.forgetting,
    ...stream,
    steps: loss.step.length,
  };
  const value: Omit<ContinualRun, 'name' | 'metrics' | 'record'> = {
    model: built.model,
    params: built.params,
    matrix: result.matrix,
    randomInit: result.randomInit,
    avalanche: metrics.avalanche,
    benchmark: benchmark.describe(),
    strategy: result.strategy,
  };
  return {
    config: { ...config, model: built.recorded, strategy: result.strategy, benchmark: { ...config.benchmark, ...benchmark.describe() }, seed: ctx.seed } as unknown as Record<string, unknown>,
    metrics: flat,
    curves: recordCurves,
    data: benchmark.experiences.flatMap((e) => [
      { name: `${benchmark.name}/exp${e.index}/train`, fingerprint: e.train.fingerprint(), size: e.train.size },
      { name: `${benchmark.name}/exp${e.index}/test`, fingerprint: e.test.fingerprint(), size: e.test.size },
    ]),
    timings: { totalMs: result.timings.totalMs, msPerStep: result.timings.msPerStep },
    value,
  };
}

/** Mean test accuracy over all experiences at each evaluation: how the whole stream fares during training. */
function streamAccuracy(result: Core.ContinualResult, n: number): { step: number[]; value: number[] } {
  const first = result.curves['exp0/accuracy'];
  if (!first) return { step: [], value: [] };
  const value = first.step.map((_, k) => {
    let sum = 0;
    for (let j = 0; j < n; j++) sum += result.curves[`exp${j}/accuracy`].value[k];
    return sum / n;
  });
  return { step: [...first.step], value };
}

/** The `%%continual` cell magic. */
export const continualMagic = experimentMagic(continualMagicSpec);
