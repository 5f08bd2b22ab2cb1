/**
 * `%%hypernet [--as NAME]`: a task-conditioned hypernetwork (von Oswald et al. 2020, "Continual
 * learning with hypernetworks", ICLR, arXiv 1906.00695; `@hyperlab/core`'s `hyper/`) learns
 * either
 *
 * - `learn: continual` — a stream from the `%%continual` vocabulary (`benchmark`, `scenario`):
 *   the target network's weights are generated from each task's embedding and held for earlier
 *   tasks by the output regulariser (weight `beta`); without task labels the task is inferred by
 *   predictive entropy. It runs as `%%continual` with the `hnet` strategy, so the live heatmap,
 *   run card, record and `%compare` are the same, plus the hypernetwork's size; or
 * - `learn: adapters` — LoRA adapters for a frozen base on several tasks (digit subsets of MNIST),
 *   all emitted by one small generator from a task and a layer embedding (after HyperFormer,
 *   Mahabadi et al. 2021); each task's adapter can be materialised into the base as an ordinary
 *   LoRA adapter (merge, PEFT save).
 *
 * Every run's card carries the compression ratio (hypernetwork parameters / generated parameters).
 */
import type * as Core from '@hyperlab/core';
import type { JsonSchema } from '../config/yaml-config.js';
import { experimentMagic, type ExperimentContext, type ExperimentMagicSpec, type ExperimentOutcome } from '../experiment-magic.js';
import { figureBundle, type LineFigure } from '../figures/figure.js';
import { LiveOutput } from '../figures/live.js';
import { ensureBackend } from '../session.js';
import { buildModel, modelSchema, type ModelConfig } from '../training/model.js';
import { benchmarkSchema, continualMagicSpec, continualTrainSchema, SCENARIO_SCHEMA, type BenchmarkConfig, type ContinualTrainConfig } from './continual.js';

/** The `hypernetwork:` section. */
export interface HypernetworkConfig {
  kind: 'full' | 'chunked';
  layers: number[];
  chunkSize?: number;
  chunkEmbSize: number;
  taskEmbSize: number;
  mip: boolean;
  layerEmbSize: number;
  projectorHidden: number;
  projectedSize: number;
}

/** The `adapters:` section (`learn: adapters`). */
export interface HyperAdaptersConfig {
  base: string;
  tasks: number[][];
  targetModules: string[];
  r: number;
  loraAlpha: number;
  train: number;
  test: number;
}

/** A validated `%%hypernet` body. */
export interface HypernetMagicConfig {
  learn: 'continual' | 'adapters';
  benchmark?: BenchmarkConfig;
  scenario?: Core.Scenario;
  model?: ModelConfig;
  adapters?: HyperAdaptersConfig;
  hypernetwork: HypernetworkConfig;
  beta: number;
  train: ContinualTrainConfig;
  seed?: number;
}

/** What `--as NAME` holds after `%%hypernet` with `learn: adapters`. */
export interface HyperAdaptersRun {
  name: string;
  /** The generator. */
  generator: Core.HyperLora;
  /** Its parameters (task and layer embeddings, projector, heads). */
  params: Core.Params;
  /** The frozen base and its parameters. */
  base: Core.Module;
  baseParams: Core.Params;
  /** The tasks' digits, in task order. */
  tasks: number[][];
  /** Each task's test accuracy. */
  accuracies: number[];
  /** Writes task `task`'s generated LoRA into the base as the adapter `name` (default `task<t>`): merge it, or save it with `saveAdapter`. */
  materialize(task: number, name?: string): ReturnType<typeof Core.materializeAdapter>;
  metrics: Record<string, number>;
  record: import('@hyperlab/core/runs').RunRecord;
}

function hypernetworkSchema(): JsonSchema {
  const positive = { type: 'integer', minimum: 1, description: 'a positive integer' };
  return {
    type: 'object',
    description: 'a mapping of hypernetwork options',
    default: {},
    additionalProperties: false,
    properties: {
      kind: { enum: ['full', 'chunked'], default: 'chunked', description: 'full (one output per generated number) or chunked (a shared generator and learned chunk embeddings)' },
      layers: { type: 'array', items: positive, default: [100, 100], description: 'hidden widths of the generator' },
      chunkSize: { ...positive, description: 'numbers generated per chunk (kind: chunked; default: about a tenth of the target)' },
      chunkEmbSize: { ...positive, default: 8 },
      taskEmbSize: { ...positive, default: 8, description: 'task-embedding width' },
      mip: { type: 'boolean', default: false, description: 'magnitude-invariant parametrisation (Ortiz et al. 2024)' },
      layerEmbSize: { ...positive, default: 8, description: 'layer-embedding width (learn: adapters)' },
      projectorHidden: { ...positive, default: 32, description: 'projector hidden width (learn: adapters)' },
      projectedSize: { ...positive, default: 16, description: 'projected embedding width (learn: adapters)' },
    },
  };
}

function adaptersSchema(): JsonSchema {
  return {
    type: 'object',
    description: 'a mapping: base, tasks, targetModules, r, loraAlpha, train, test',
    required: ['base', 'tasks'],
    additionalProperties: false,
    properties: {
      base: { type: 'string', pattern: '^[A-Za-z_$][\\w$]*$', description: 'an earlier run or variable holding { model, params } (frozen)' },
      tasks: { type: 'array', minItems: 1, items: { type: 'array', minItems: 2, uniqueItems: true, items: { type: 'integer', minimum: 0, maximum: 9 } }, description: 'one list of MNIST digits per task, e.g. [[0, 1], [2, 3]]' },
      targetModules: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1, default: ['0'], description: 'the linear layers that get a generated LoRA' },
      r: { type: 'integer', minimum: 1, default: 4, description: 'LoRA rank' },
      loraAlpha: { type: 'number', exclusiveMinimum: 0, default: 8, description: 'LoRA alpha' },
      train: { type: 'integer', minimum: 1, default: 1000, description: 'training images per task' },
      test: { type: 'integer', minimum: 1, default: 500, description: 'test images per task' },
    },
  };
}

/** The JSON Schema of a `%%hypernet` body. */
export function hypernetMagicSchema(core: typeof Core): JsonSchema {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: '%%hypernet',
    type: 'object',
    description: 'a YAML mapping with learn, the task (benchmark + scenario + model, or adapters), hypernetwork, beta, train and seed',
    required: ['learn'],
    properties: {
      learn: { enum: ['continual', 'adapters'], description: 'continual (a %%continual stream) or adapters (generated LoRA for a frozen base)' },
      benchmark: benchmarkSchema(),
      scenario: SCENARIO_SCHEMA,
      model: modelSchema(),
      adapters: adaptersSchema(),
      hypernetwork: hypernetworkSchema(),
      beta: { type: 'number', minimum: 0, default: 0.01, description: 'the output regulariser weight (von Oswald et al.: 0.01)' },
      train: continualTrainSchema(core),
      seed: { type: 'integer', description: 'an integer (default: %seed)' },
    },
    allOf: [
      {
        if: { properties: { learn: { const: 'continual' } }, required: ['learn'] },
        then: { required: ['benchmark', 'scenario', 'model'], properties: { learn: true, benchmark: true, scenario: true, model: true, hypernetwork: true, beta: true, train: true, seed: true }, additionalProperties: false },
      },
      {
        if: { properties: { learn: { const: 'adapters' } }, required: ['learn'] },
        then: { required: ['adapters'], properties: { learn: true, adapters: true, hypernetwork: true, train: true, seed: true }, additionalProperties: false },
      },
    ],
  };
}

/** The commented starting point for `%%hypernet`. */
export const HYPERNET_TEMPLATE = `learn: continual           # continual | adapters
benchmark:
  name: split-mnist
  train: 1000               # images per experience
  test: 500
scenario: task              # task | domain | class (class: the task is inferred by entropy)
model:
  mlp: [784, 100, 100, 10]  # the target network, whose weights are generated
hypernetwork:
  kind: chunked             # full | chunked
  layers: [50, 50]
  chunkSize: 2000
  chunkEmbSize: 16
  taskEmbSize: 16
  mip: false
beta: 0.01                  # output regulariser weight
train:
  iterations: 300
  batchSize: 128
  lr: 0.001
seed: 0
`;

let cachedSchema: JsonSchema | undefined;

function loadCore(): typeof Core {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('@hyperlab/core') as typeof Core;
}

/** `learn: continual`: `%%continual` with the `hnet` strategy, and the hypernetwork's size. */
async function learnContinual(core: typeof Core, config: HypernetMagicConfig, ctx: ExperimentContext): Promise<ExperimentOutcome> {
  const h = config.hypernetwork;
  if (h.kind === 'full' && h.chunkSize !== undefined) ctx.fail(['hypernetwork', 'chunkSize'], 'hypernetwork.chunkSize is for kind: chunked');
  const targetModel = config.model!;
  // The generated network's size fixes the default chunk (about ten chunks).
  let chunkSize = h.chunkSize;
  if (h.kind === 'chunked' && chunkSize === undefined) {
    const probe = await buildModel(core, targetModel, new core.Rng(ctx.seed), { session: ctx.session, variable: (name) => ctx.magic.runCode(name), fail: (message) => ctx.fail(['model'], `model: ${message}`) });
    const total = core.countParams(probe.params).all;
    core.disposeParams(probe.params);
    chunkSize = Math.ceil(total / 10);
  }
  const strategy = {
    name: 'hnet',
    beta: config.beta,
    hnetLayers: h.layers,
    taskEmbSize: h.taskEmbSize,
    mip: h.mip,
    ...(h.kind === 'chunked' ? { chunkSize, chunkEmbSize: h.chunkEmbSize } : {}),
  };
  const outcome = await continualMagicSpec.run({ benchmark: config.benchmark!, scenario: config.scenario!, model: targetModel, strategy, train: config.train, seed: ctx.seed }, ctx);
  const value = outcome.value as { model: Core.Module; params: Core.Params; benchmark: Record<string, unknown> };
  const experiences = (value.benchmark.experiences as unknown[] | undefined)?.length ?? config.benchmark!.nExperiences;
  const hnet = core.hnetFor(strategy, value.model, value.params, experiences);
  const count = hnet.count();
  ctx.magic.print(`hypernetwork: ${count.hypernet.toLocaleString('en-US')} parameters (${count.taskEmbeddings.toLocaleString('en-US')} in task embeddings) generate ${count.target.toLocaleString('en-US')}: compression ratio ${count.compressionRatio.toFixed(3)}`);
  const recorded = outcome.config as Record<string, unknown>;
  return {
    ...outcome,
    config: { learn: 'continual', benchmark: recorded.benchmark, scenario: recorded.scenario, model: recorded.model, hypernetwork: { ...h, ...(chunkSize !== undefined ? { chunkSize } : {}) }, beta: config.beta, strategy: recorded.strategy, train: recorded.train, seed: ctx.seed },
    metrics: { ...outcome.metrics, hypernetParams: count.hypernet, targetParams: count.target, compressionRatio: count.compressionRatio },
    value: { ...outcome.value, hypernetwork: count },
  };
}

/** `learn: adapters`: one generator of LoRA adapters for several tasks on a frozen base, trained on all tasks in turn. */
async function learnAdapters(core: typeof Core, config: HypernetMagicConfig, ctx: ExperimentContext): Promise<ExperimentOutcome> {
  const spec = config.adapters!;
  const h = config.hypernetwork;
  const built = await buildModel(core, spec.base, new core.Rng(ctx.seed), { session: ctx.session, variable: (name) => ctx.magic.runCode(name), fail: (message) => ctx.fail(['adapters', 'base'], `adapters.base: ${message}`) });
  const { model: base, params: baseParams } = built;
  const outputs = base.sizes[base.sizes.length - 1];
  spec.tasks.forEach((digits, t) => {
    if (digits.length !== outputs) ctx.fail(['adapters', 'tasks', t], `adapters.tasks[${t}] has ${digits.length} digits but the base has ${outputs} outputs (a task's digits are its classes, in order)`);
  });
  if (base.sizes[0] !== 784) ctx.fail(['adapters', 'base'], `adapters.base: the input width is ${base.sizes[0]}, MNIST has 784 pixels`);
  for (const leaf of core.flatten(baseParams).values()) leaf.trainable = false;
  let generator: Core.HyperLora;
  try {
    generator = core.hyperLora({ base, targetModules: spec.targetModules, numTasks: spec.tasks.length, r: spec.r, loraAlpha: spec.loraAlpha, taskEmbSize: h.taskEmbSize, layerEmbSize: h.layerEmbSize, projectorHidden: h.projectorHidden, projectedSize: h.projectedSize });
  } catch (error) {
    return ctx.fail(['adapters'], `adapters: ${(error as Error).message}`);
  }
  const rng = new core.Rng(ctx.seed);
  const params = generator.init(rng.fork('hyper-lora'));
  const data = spec.tasks.map((digits, t) => ({
    train: core.loadMnist({ split: 'train', digits, limit: spec.train, remapLabels: true }),
    test: core.loadMnist({ split: 'test', digits, limit: spec.test, remapLabels: true }),
    task: t,
  }));
  const taskModel = (task: number): Core.Module => ({ kind: 'hyper-lora', init: () => params, apply: (p, x, c) => generator.apply(p, baseParams, x, task, c) });
  const evaluate = async (): Promise<number[]> => {
    const accuracies: number[] = [];
    for (const d of data) accuracies.push((await core.evaluate(taskModel(d.task), params, core.batches(d.test, { batchSize: 500 }), { accuracy: 'accuracy' })).accuracy);
    return accuracies;
  };
  const iterations = config.train.iterations ?? 500;
  const batchSize = config.train.batchSize;
  const evalEvery = config.train.evalEvery;
  const curves: Record<string, { step: number[]; value: number[] }> = { 'train/loss': { step: [], value: [] } };
  spec.tasks.forEach((_, t) => (curves[`test/accuracy/task${t}`] = { step: [], value: [] }));
  const record = (step: number, accuracies: number[]): void => accuracies.forEach((a, t) => { curves[`test/accuracy/task${t}`].step.push(step); curves[`test/accuracy/task${t}`].value.push(a); });
  record(0, await evaluate());
  const plot = new LiveOutput(ctx.magic, ctx.session.liveRate);
  const figure = (): LineFigure => ({
    title: `${ctx.name}: generated LoRA per task`,
    xTitle: 'step',
    yTitle: 'loss',
    y2Title: 'test accuracy',
    y2Range: [0, 1],
    series: [{ name: 'train loss', x: curves['train/loss'].step, y: curves['train/loss'].value }, ...spec.tasks.map((digits, t) => ({ name: `task ${t} (${digits.join(',')})`, x: curves[`test/accuracy/task${t}`].step, y: curves[`test/accuracy/task${t}`].value, axis: 'y2' as const, markers: true }))],
  });
  plot.offer(() => figureBundle(figure()));
  // Round robin over tasks: step k trains task k mod T, so every task sees the same number of steps.
  // The loop takes each batch and steps on it before asking for the next, so the task of the batch
  // in flight is simply the last one yielded.
  let current = 0;
  const shuffles = data.map((d) => rng.fork(`shuffle:${d.task}`));
  const iterators = data.map((d, t) => core.batches(d.train, { batchSize, shuffle: true, rng: shuffles[t], dropLast: true }));
  function* roundRobin(): Generator<Core.Batch> {
    for (let step = 0; step < iterations; step++) {
      const t = step % data.length;
      let next = iterators[t].next();
      if (next.done) {
        iterators[t] = core.batches(data[t].train, { batchSize, shuffle: true, rng: shuffles[t], dropLast: true });
        next = iterators[t].next();
      }
      current = t;
      yield next.value as Core.Batch;
    }
  }
  const model: Core.Module = {
    kind: 'hyper-lora',
    init: () => params,
    apply: (p, x, c) => generator.apply(p, baseParams, x, current, c),
  };
  const optimizer = core.adam({ lr: config.train.lr });
  let result: Core.TrainResult;
  try {
    result = await core.train({
      model,
      params,
      loss: 'cross-entropy',
      data: roundRobin,
      epochs: 1,
      optimizer,
      rng: rng.fork('train'),
      signal: ctx.magic.signal,
      ...(evalEvery > 0 ? { evaluate: { every: evalEvery, fn: async () => Object.fromEntries((await evaluate()).map((a, t) => [`task${t}`, a])) } } : {}),
      onProgress(event) {
        if (event.type === 'step') {
          curves['train/loss'].step.push(event.step);
          curves['train/loss'].value.push(event.loss);
          plot.offer(() => figureBundle(figure()));
        } else if (event.type === 'eval') record(event.step, spec.tasks.map((_, t) => event.metrics[`task${t}`]));
      },
    });
  } finally {
    optimizer.dispose();
  }
  if (result.stoppedBy === 'aborted') {
    plot.finish(() => figureBundle(figure()));
    const error = new Error(`interrupted at step ${result.steps} of ${iterations}; no run was recorded`);
    error.name = 'KeyboardInterrupt';
    error.stack = `${error.name}: ${error.message}`;
    throw error;
  }
  const accuracies = curves['test/accuracy/task0'].step.at(-1) === result.steps ? spec.tasks.map((_, t) => curves[`test/accuracy/task${t}`].value.at(-1)!) : await evaluate();
  if (curves['test/accuracy/task0'].step.at(-1) !== result.steps) record(result.steps, accuracies);
  plot.finish(() => figureBundle(figure()));
  const generatorParams = core.countParams(params).all;
  const perTaskLora = generator.layers.reduce((n, layer) => n + spec.r * (layer.inFeatures + layer.outFeatures), 0);
  const separate = perTaskLora * spec.tasks.length;
  ctx.magic.print(`generator: ${generatorParams.toLocaleString('en-US')} parameters emit ${spec.tasks.length} adapters of ${perTaskLora.toLocaleString('en-US')} (${separate.toLocaleString('en-US')} if trained separately): compression ratio ${(generatorParams / separate).toFixed(3)}`);
  const mean = accuracies.reduce((a, b) => a + b, 0) / accuracies.length;
  const value: Omit<HyperAdaptersRun, 'name' | 'metrics' | 'record'> = {
    generator,
    params,
    base,
    baseParams,
    tasks: spec.tasks,
    accuracies,
    materialize: (task, name) => core.materializeAdapter(generator, params, base, baseParams, task, name),
  };
  return {
    config: { learn: 'adapters', adapters: { ...spec, base: built.recorded }, hypernetwork: h, train: config.train, seed: ctx.seed },
    metrics: { accuracy: mean, ...Object.fromEntries(accuracies.map((a, t) => [`accuracy/task${t}`, a])), generatorParams, loraParamsPerTask: perTaskLora, compressionRatio: generatorParams / separate, steps: result.steps },
    curves,
    data: data.flatMap((d) => [
      { name: `${d.train.name}/task${d.task}`, fingerprint: d.train.fingerprint(), size: d.train.size },
      { name: `${d.test.name}/task${d.task}`, fingerprint: d.test.fingerprint(), size: d.test.size },
    ]),
    timings: { totalMs: result.timings.totalMs, msPerStep: result.timings.msPerStep },
    value,
  };
}

/** `%%hypernet`. */
export const hypernetMagicSpec: ExperimentMagicSpec<HypernetMagicConfig> = {
  name: 'hypernet',
  help: 'A task-conditioned hypernetwork (von Oswald et al. 2020) that learns a continual stream or generates LoRA adapters for several tasks, from a YAML config: %%hypernet [--as NAME].',
  template: HYPERNET_TEMPLATE,
  variableType: 'import("@hyperlab/magics").HypernetRun',
  schema: () => (cachedSchema ??= hypernetMagicSchema(loadCore())),
  async run(config, ctx) {
    const core = loadCore();
    await ensureBackend(core);
    return config.learn === 'continual' ? learnContinual(core, config, ctx) : learnAdapters(core, config, ctx);
  },
};

/** What `--as NAME` holds after `%%hypernet`: a continual run with the hypernetwork's size, or the adapter generator. */
export type HypernetRun = (import('./continual.js').ContinualRun & { hypernetwork: Core.HypernetCount }) | HyperAdaptersRun;

/** The `%%hypernet` cell magic. */
export const hypernetMagic = experimentMagic(hypernetMagicSpec);
