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
 *   LoRA adapter (merge, PEFT save); or
 * - `learn: regression` — a family of 1-D regression tasks (sinusoids as in MAML's benchmark,
 *   polynomials, steps), the target regressor generated per task (with `mip: true`, Ortiz et al.
 *   2024's magnitude-invariant parametrisation).
 *
 * Every run's card carries the compression ratio (hypernetwork parameters / generated parameters).
 */
import type * as Core from '@hyperlab/core';
import type { JsonSchema } from '../config/yaml-config.js';
import { experimentMagic, refuseCheckpoints, type ExperimentContext, type ExperimentMagicSpec, type ExperimentOutcome } from '../experiment-magic.js';
import { figureBundle, type LineFigure } from '../figures/figure.js';
import { LiveOutput } from '../figures/live.js';
import { ensureBackend, loadCore } from '../session.js';
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

/** The `regression:` section (`learn: regression`). */
export interface HyperRegressionConfig {
  family: 'sine' | 'polynomial' | 'step';
  tasks: number;
  train: number;
  test: number;
  noise: number;
}

/** A validated `%%hypernet` body. */
export interface HypernetMagicConfig {
  learn: 'continual' | 'adapters' | 'regression';
  regression?: HyperRegressionConfig;
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
      learn: { enum: ['continual', 'adapters', 'regression'], description: 'continual (a %%continual stream), adapters (generated LoRA for a frozen base) or regression (a family of 1-D regression tasks)' },
      regression: {
        type: 'object',
        description: 'a mapping: family, tasks, train, test, noise',
        default: {},
        additionalProperties: false,
        properties: {
          family: { enum: ['sine', 'polynomial', 'step'], default: 'sine', description: 'sine (amplitude and phase drawn per task), polynomial or step' },
          tasks: { type: 'integer', minimum: 1, default: 5, description: 'number of tasks' },
          train: { type: 'integer', minimum: 1, default: 200, description: 'training points per task' },
          test: { type: 'integer', minimum: 1, default: 100, description: 'test points per task' },
          noise: { type: 'number', minimum: 0, default: 0, description: 'target noise std' },
        },
      },
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
        if: { properties: { learn: { const: 'regression' } }, required: ['learn'] },
        then: { required: ['model'], properties: { learn: true, regression: true, model: true, hypernetwork: true, train: true, seed: true }, additionalProperties: false },
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

/** One task of a multi-task run: its data and a short label for plots. */
interface MultiTask {
  label: string;
  train: Core.Dataset;
  test: Core.Dataset;
}

/** What {@link trainRoundRobin} returns. */
interface RoundRobinResult {
  result: Core.TrainResult;
  /** The final value of the evaluated metric per task. */
  final: number[];
  curves: Record<string, { step: number[]; value: number[] }>;
}

/**
 * Trains one set of params on several tasks in turn (step k trains task k mod T, so every task
 * gets the same number of steps) with the core's loop, evaluating `metric` on every task's test
 * set every `evalEvery` steps, with a live figure. `forward(task)` is the model for a task.
 */
async function trainRoundRobin(
  core: typeof Core,
  ctx: ExperimentContext,
  options: { tasks: MultiTask[]; params: Core.Params; forward: (params: Core.Params, x: Parameters<Core.Module['apply']>[1], task: number, c?: Core.ApplyContext) => ReturnType<Core.Module['apply']>; loss: 'cross-entropy' | 'mse'; metric: 'accuracy' | 'mse'; train: ContinualTrainConfig; title: string; rng: Core.Rng },
): Promise<RoundRobinResult> {
  const { tasks, params, forward, train, metric } = options;
  const taskModel = (task: number): Core.Module => ({ kind: 'hypernet-task', init: () => params, apply: (p, x, c) => forward(p, x, task, c) });
  const evaluate = async (): Promise<number[]> => {
    const values: number[] = [];
    for (const [t, d] of tasks.entries()) values.push((await core.evaluate(taskModel(t), params, core.batches(d.test, { batchSize: 500 }), { [metric]: metric }))[metric]);
    return values;
  };
  const iterations = train.iterations ?? 500;
  const curves: Record<string, { step: number[]; value: number[] }> = { 'train/loss': { step: [], value: [] } };
  tasks.forEach((_, t) => (curves[`test/${metric}/task${t}`] = { step: [], value: [] }));
  const note = (step: number, values: number[]): void =>
    values.forEach((v, t) => {
      curves[`test/${metric}/task${t}`].step.push(step);
      curves[`test/${metric}/task${t}`].value.push(v);
    });
  // A sweep trial's reports, under the final metrics' names: the mean over tasks and each task's.
  const report = (step: number, values: number[]): void =>
    ctx.trial?.report(step, { [metric]: values.reduce((a, b) => a + b, 0) / values.length, ...Object.fromEntries(values.map((v, t) => [`${metric}/task${t}`, v])) });
  note(0, await evaluate());
  const plot = new LiveOutput(ctx.magic, ctx.session.liveRate);
  const figure = (): LineFigure => ({
    title: options.title,
    xTitle: 'step',
    yTitle: 'loss',
    y2Title: `test ${metric}`,
    ...(metric === 'accuracy' ? { y2Range: [0, 1] as [number, number] } : {}),
    series: [{ name: 'train loss', x: curves['train/loss'].step, y: curves['train/loss'].value }, ...tasks.map((task, t) => ({ name: task.label, x: curves[`test/${metric}/task${t}`].step, y: curves[`test/${metric}/task${t}`].value, axis: 'y2' as const, markers: true }))],
  });
  plot.offer(() => figureBundle(figure()));
  // The loop takes each batch and steps on it before asking for the next, so the task of the
  // batch in flight is the last one yielded.
  let current = 0;
  const shuffles = tasks.map((_, t) => options.rng.fork(`shuffle:${t}`));
  const batchesOf = (t: number): Core.BatchIterator => core.batches(tasks[t].train, { batchSize: train.batchSize, shuffle: true, rng: shuffles[t], dropLast: tasks[t].train.size >= train.batchSize });
  const iterators = tasks.map((_, t) => batchesOf(t));
  function* roundRobin(): Generator<Core.Batch> {
    for (let step = 0; step < iterations; step++) {
      const t = step % tasks.length;
      let next = iterators[t].next();
      if (next.done) {
        iterators[t] = batchesOf(t);
        next = iterators[t].next();
      }
      current = t;
      yield next.value as Core.Batch;
    }
  }
  const model: Core.Module = { kind: 'hypernet-round-robin', init: () => params, apply: (p, x, c) => forward(p, x, current, c) };
  const optimizer = core.adam({ lr: train.lr, ...(train.betas ? { beta1: train.betas[0], beta2: train.betas[1] } : {}) });
  let result: Core.TrainResult;
  try {
    result = await core.train({
      model,
      params,
      loss: options.loss,
      data: roundRobin,
      epochs: 1,
      optimizer,
      rng: options.rng.fork('train'),
      // The model applies the task of the batch in flight (JavaScript state): one compiled graph
      // per task on the native backend.
      compileKey: () => String(current),
      signal: ctx.magic.signal,
      ...(train.evalEvery > 0 ? { evaluate: { every: train.evalEvery, fn: async () => Object.fromEntries((await evaluate()).map((v, t) => [`task${t}`, v])) } } : {}),
      onProgress(event) {
        if (event.type === 'step') {
          curves['train/loss'].step.push(event.step);
          curves['train/loss'].value.push(event.loss);
          plot.offer(() => figureBundle(figure()));
        } else if (event.type === 'eval') {
          const values = tasks.map((_, t) => event.metrics[`task${t}`]);
          note(event.step, values);
          report(event.step, values);
        }
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
  const evaluatedLast = curves[`test/${metric}/task0`].step.at(-1) === result.steps;
  const final = evaluatedLast ? tasks.map((_, t) => curves[`test/${metric}/task${t}`].value.at(-1)!) : await evaluate();
  if (!evaluatedLast) {
    note(result.steps, final);
    report(result.steps, final);
  }
  plot.finish(() => figureBundle(figure()));
  return { result, final, curves };
}

const dataEntries = (tasks: MultiTask[]): Core.RunData[] =>
  tasks.flatMap((d, t) => [
    { name: `${d.train.name}/task${t}`, fingerprint: d.train.fingerprint(), size: d.train.size },
    { name: `${d.test.name}/task${t}`, fingerprint: d.test.fingerprint(), size: d.test.size },
  ]);

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
  const tasks: MultiTask[] = spec.tasks.map((digits, t) => ({
    label: `task ${t} (${digits.join(',')})`,
    train: core.loadMnist({ split: 'train', digits, limit: spec.train, remapLabels: true }),
    test: core.loadMnist({ split: 'test', digits, limit: spec.test, remapLabels: true }),
  }));
  const { result, final: accuracies, curves } = await trainRoundRobin(core, ctx, {
    tasks,
    params,
    forward: (p, x, task, c) => generator.apply(p, baseParams, x, task, c),
    loss: 'cross-entropy',
    metric: 'accuracy',
    train: config.train,
    title: `${ctx.name}: generated LoRA per task`,
    rng,
  });
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
    data: dataEntries(tasks),
    timings: { totalMs: result.timings.totalMs, msPerStep: result.timings.msPerStep },
    value,
  };
}

/**
 * `learn: regression`: a family of 1-D regression tasks (the core's `regression1d`: sinusoids with
 * drawn amplitude and phase as in MAML's benchmark, polynomials or steps), one learned task
 * embedding each; the hypernetwork generates the target regressor for a task from its embedding.
 */
async function learnRegression(core: typeof Core, config: HypernetMagicConfig, ctx: ExperimentContext): Promise<ExperimentOutcome> {
  const spec = config.regression!;
  const h = config.hypernetwork;
  const built = await buildModel(core, config.model!, new core.Rng(ctx.seed), { session: ctx.session, variable: (name) => ctx.magic.runCode(name), fail: (message) => ctx.fail(['model'], `model: ${message}`) });
  const target = built.model;
  if (target.sizes[0] !== 1 || target.sizes[target.sizes.length - 1] !== 1) ctx.fail(['model'], `model: a 1-D regressor needs input and output width 1, got [${target.sizes.join(', ')}]`);
  const rng = new core.Rng(ctx.seed);
  const tasks: MultiTask[] = Array.from({ length: spec.tasks }, (_, t) => {
    const train = core.regression1d({ family: spec.family, n: spec.train, noise: spec.noise, rng: rng.fork(`task:${t}`) });
    // The test set: the same task (its drawn parameters), fresh inputs, no noise.
    const test = core.regression1d({ family: spec.family, n: spec.test, rng: rng.fork(`test:${t}`), ...(train.task.params as Record<string, never>) });
    const shown = Object.entries(train.task.params).map(([k, v]) => `${k} ${Array.isArray(v) ? v.map((c) => c.toFixed(2)).join('/') : (v as number).toFixed(2)}`).join(', ');
    return { label: `task ${t} (${shown})`, train, test };
  });
  const hypernetArgs = { target, targetParams: built.params, condInSize: h.taskEmbSize, layers: h.layers, numCondEmbs: spec.tasks, mip: h.mip };
  let hnet: Core.Hypernetwork;
  try {
    hnet = h.kind === 'chunked' ? core.chunkedHmlp({ ...hypernetArgs, chunkSize: h.chunkSize ?? Math.ceil(core.countParams(built.params).all / 10), chunkEmbSize: h.chunkEmbSize }) : core.hmlp(hypernetArgs);
  } catch (error) {
    return ctx.fail(['hypernetwork'], `hypernetwork: ${(error as Error).message}`);
  }
  const params = hnet.init(rng.fork('hypernet'));
  core.disposeParams(built.params);
  const { result, final, curves } = await trainRoundRobin(core, ctx, {
    tasks,
    params,
    forward: (p, x, task, c) => target.apply(hnet.generate(p, task), x, c),
    loss: 'mse',
    metric: 'mse',
    train: config.train,
    title: `${ctx.name}: a hypernetwork over ${spec.tasks} ${spec.family} tasks${h.mip ? ' (MIP)' : ''}`,
    rng,
  });
  const count = hnet.count();
  ctx.magic.print(`hypernetwork: ${count.hypernet.toLocaleString('en-US')} parameters generate ${count.target.toLocaleString('en-US')} per task: compression ratio ${count.compressionRatio.toFixed(3)} (${(count.hypernet / (count.target * spec.tasks)).toFixed(3)} against ${spec.tasks} separate regressors)`);
  const mean = final.reduce((a, b) => a + b, 0) / final.length;
  return {
    config: { learn: 'regression', regression: { ...spec, tasks: tasks.map((t) => (t.train as Core.RegressionDataset).task.params), count: spec.tasks }, model: built.recorded, hypernetwork: h, train: config.train, seed: ctx.seed },
    metrics: { mse: mean, ...Object.fromEntries(final.map((v, t) => [`mse/task${t}`, v])), hypernetParams: count.hypernet, targetParams: count.target, compressionRatio: count.compressionRatio, steps: result.steps },
    curves,
    data: dataEntries(tasks),
    timings: { totalMs: result.timings.totalMs, msPerStep: result.timings.msPerStep },
    value: { hypernetwork: hnet, params, target, count },
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
    refuseCheckpoints(ctx.trial, '%%hypernet');
    const core = loadCore();
    await ensureBackend(core);
    if (config.learn === 'continual') return learnContinual(core, config, ctx);
    return config.learn === 'adapters' ? learnAdapters(core, config, ctx) : learnRegression(core, config, ctx);
  },
};

/** What `--as NAME` holds after `%%hypernet` with `learn: regression`. */
export interface HyperRegressionRun {
  name: string;
  /** The hypernetwork, its params (task embeddings included) and the target it generates. */
  hypernetwork: Core.Hypernetwork;
  params: Core.Params;
  target: Core.Module;
  count: Core.HypernetCount;
  metrics: Record<string, number>;
  record: import('@hyperlab/core/runs').RunRecord;
}

/** What `--as NAME` holds after `%%hypernet`: a continual run with the hypernetwork's size, the adapter generator, or the regression hypernetwork. */
export type HypernetRun = (import('./continual.js').ContinualRun & { hypernetwork: Core.HypernetCount }) | HyperAdaptersRun | HyperRegressionRun;

/** The `%%hypernet` cell magic. */
export const hypernetMagic = experimentMagic(hypernetMagicSpec);
