/**
 * `%%adapter [--as NAME]`: fine-tune a model with a parameter-efficient method (or in full) from a
 * YAML config — model, data, adapter (PEFT-style options, camelCase), training, seed — showing the
 * trainable-parameter table, a live progress line and figure, and a run card. The adapter methods
 * and their papers are in `@hyperlab/core`'s `adapters/` (LoRA, DoRA, VeRA, (IA)³, bottleneck);
 * BitFit (Ben Zaken et al., 2022) and full fine-tuning need no injected layers. AdaLoRA's rank
 * allocator and orthogonal penalty run inside the training loop.
 */
import type * as Core from '@hyperlab/core';
import type { JsonSchema } from '../config/yaml-config.js';
import { experimentMagic, refuseCheckpoints, type ExperimentMagicSpec, type TemplateVariant } from '../experiment-magic.js';
import { checkpointField, decodeCheckpoint } from '../training/checkpoint.js';
import { ensureBackend, loadCore } from '../session.js';
import { dataSchema, loadData, type DataConfig } from '../training/data.js';
import { buildModel, modelSchema, type ModelConfig } from '../training/model.js';
import { trainLive, trainSchema, type TrainConfig } from '../training/live-training.js';

/** A validated `%%adapter` body. */
export interface AdapterMagicConfig {
  model: ModelConfig;
  data: DataConfig;
  adapter: { method: string; modulesToSave?: string[]; targetModules?: string | string[] } & Record<string, unknown>;
  train: TrainConfig;
  seed?: number;
}

/** What `--as NAME` holds after `%%adapter`. */
export interface AdapterRun {
  /** The run's name. */
  name: string;
  /** The model (with its adapter layers, if any). */
  model: Core.MlpModule;
  /** Its parameters (base weights and adapter weights). */
  params: Core.Params;
  /** The adapter section as run (defaults filled in). */
  adapter: Record<string, unknown>;
  /** Final metrics. */
  metrics: Record<string, number>;
  /** The run record. */
  record: import('@hyperlab/core/runs').RunRecord;
  /** Training history (per-step loss and lr, evaluations). */
  history: Core.TrainHistory;
}

/** Steps `train` will take on `size` examples (what AdaLoRA's schedule and HFT's rounds count in). */
function plannedSteps(core: typeof Core, train: TrainConfig, size: number): number {
  return core.numBatches(size, train.batchSize) * train.epochs;
}

/** Training examples whose inputs CorDA's covariances are measured on (`initLoraWeights: corda`). */
const CORDA_CALIBRATION = 256;

/** Methods that need no injected layers. */
const WHOLE_MODEL_METHODS = {
  full: 'full fine-tuning: every parameter trains',
  bitfit: 'BitFit: only biases train (plus modulesToSave)',
};

function adapterSchema(core: typeof Core): JsonSchema {
  const injected = core.adapterMethodNames();
  const whole = core.wholeModelMethodNames();
  const methods = [...Object.keys(WHOLE_MODEL_METHODS), ...whole, ...injected];
  const method = { enum: methods, description: `the method: ${methods.join(', ')}` };
  const branches: JsonSchema[] = injected.map((name) => {
    const schema = core.configJsonSchema(core.getAdapterMethod(name).schema) as { properties: Record<string, unknown>; required: string[] };
    return { if: { properties: { method: { const: name } }, required: ['method'] }, then: { ...schema, properties: { ...schema.properties, method } } };
  });
  for (const name of whole) {
    const spec = core.getWholeModelMethod(name);
    const schema = core.configJsonSchema(spec.schema) as { properties: Record<string, unknown>; required: string[] };
    branches.push({ if: { properties: { method: { const: name } }, required: ['method'] }, then: { ...schema, description: spec.description, properties: { ...schema.properties, method } } });
  }
  const stringList = { type: 'array', items: { type: 'string', minLength: 1 }, description: 'a list of module names' };
  branches.push({
    if: { properties: { method: { const: 'full' } }, required: ['method'] },
    then: { properties: { method }, additionalProperties: false },
  });
  branches.push({
    if: { properties: { method: { const: 'bitfit' } }, required: ['method'] },
    then: { properties: { method, targetModules: { anyOf: [{ type: 'string', minLength: 1 }, stringList], description: 'module names, globs or a regex' }, modulesToSave: { ...stringList, default: [] } }, additionalProperties: false },
  });
  return { type: 'object', description: 'a mapping with a method key', required: ['method'], properties: { method }, allOf: branches };
}

/** The JSON Schema of an `%%adapter` body. */
export function adapterMagicSchema(core: typeof Core): JsonSchema {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: '%%adapter',
    type: 'object',
    description: 'a YAML mapping with model, data, adapter, train and seed',
    required: ['model', 'data', 'adapter'],
    additionalProperties: false,
    properties: {
      model: modelSchema(),
      data: dataSchema(),
      adapter: adapterSchema(core),
      train: trainSchema(),
      seed: { type: 'integer', description: 'an integer (default: %seed)' },
    },
  };
}

/** The commented starting point for `%%adapter`. */
export const ADAPTER_TEMPLATE = `model:
  mlp: [784, 128, 10]      # or the name of an earlier run (%%adapter --as base) / variable
data:
  dataset: mnist           # mnist | sum-greater-than | gaussian-mixture
  train: 5000              # first N training images
  test: 1000
adapter:
  method: lora             # full | bitfit | lora | dora | … (%magic_templates lists them all)
  r: 8
  loraAlpha: 16
  targetModules: ['0']     # module paths (suffixes, globs or a regex)
  modulesToSave: ['1']     # trained in full (e.g. a new head)
train:
  epochs: 1
  batchSize: 64
  optimizer: adam          # sgd | adam | adamw
  lr: 0.003
seed: 0
`;

let cachedSchema: JsonSchema | undefined;

/** A YAML scalar or flow list for a template line. */
function yamlValue(value: unknown): string {
  if (typeof value === 'string') return /^[\w.-]+$/.test(value) && !/^(true|false|null|~|[-+]?\d)/i.test(value) ? value : JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(yamlValue).join(', ')}]`;
  return JSON.stringify(value);
}

/** The `adapter:` lines of a method's template: every field with its default, required ones commented. */
function adapterLines(schema: Core.ConfigSchema, method: string): string[] {
  const lines = [`  method: ${method}`];
  for (const [key, spec] of Object.entries(schema)) {
    if (key === 'method') continue;
    if (key === 'targetModules') lines.push(`  targetModules: ['0']     # module paths (suffixes, globs or a regex)`);
    else if (key === 'modulesToSave') lines.push(`  modulesToSave: ['1']     # trained in full (e.g. a new head)`);
    else if (key === 'totalStep') lines.push(`  totalStep: ${Math.ceil(5000 / 64)}            # steps of the run: ⌈train / batchSize⌉ × epochs`);
    else if (spec.default !== undefined && (typeof spec.default !== 'object' || Array.isArray(spec.default))) lines.push(`  ${key}: ${yamlValue(spec.default)}`);
    else if (spec.default === undefined && !spec.optional) lines.push(`  # ${key}: (required) ${spec.expected}`);
  }
  return lines;
}

/** ADAPTER_TEMPLATE with its `adapter:` section replaced. */
function withAdapterSection(lines: string[]): string {
  return ADAPTER_TEMPLATE.replace(/^adapter:\n(?:  .*\n)+/m, `adapter:\n${lines.join('\n')}\n`);
}

/** One template per method: full, BitFit, the whole-model methods and every injected adapter method. */
function adapterVariants(core: typeof Core): TemplateVariant[] {
  const variants: TemplateVariant[] = [
    { key: 'full', help: WHOLE_MODEL_METHODS.full, template: withAdapterSection(['  method: full']) },
    { key: 'bitfit', help: `${WHOLE_MODEL_METHODS.bitfit} (Ben Zaken et al. 2022)`, template: withAdapterSection(['  method: bitfit', `  modulesToSave: ['1']     # trained in full (e.g. a new head)`]) },
  ];
  for (const name of core.wholeModelMethodNames()) {
    const spec = core.getWholeModelMethod(name);
    variants.push({ key: name, help: spec.description, template: withAdapterSection(adapterLines(spec.schema, name)) });
  }
  for (const name of core.adapterMethodNames()) {
    const method = core.getAdapterMethod(name);
    variants.push({ key: name, help: method.description ?? method.configName, template: withAdapterSection(adapterLines(method.schema, name)) });
  }
  return variants;
}

/** `%%adapter`. */
export const adapterMagicSpec: ExperimentMagicSpec<AdapterMagicConfig> = {
  name: 'adapter',
  help: 'Fine-tune with a PEFT method (LoRA and its family, adapters, (IA)³, sparse or subspace fine-tuning, BitFit) or in full from a YAML config: %%adapter [--as NAME].',
  template: ADAPTER_TEMPLATE,
  variants: () => adapterVariants(loadCore()),
  variableType: 'import("@hyperlab/magics").AdapterRun',
  schema: () => (cachedSchema ??= adapterMagicSchema(loadCore())),
  async run(config, ctx) {
    const core = loadCore();
    await ensureBackend(core);
    const trial = ctx.trial;
    const resume = trial?.resume !== undefined ? decodeCheckpoint(trial.resume, 'adapter') : undefined;
    const rng = new core.Rng(ctx.seed);
    const data = loadData(core, config.data, ctx.seed);
    const built = await buildModel(core, config.model, rng, {
      session: ctx.session,
      variable: (name) => ctx.magic.runCode(name),
      fail: (message) => ctx.fail(['model'], `model: ${message}`),
    });
    const { model, params } = built;
    const widths = model.sizes;
    if (widths[0] !== data.features) ctx.fail(['model'], `model: the input width is ${widths[0]} but ${config.data.dataset} has ${data.features} features per example`);
    if (widths[widths.length - 1] !== data.classes) {
      ctx.fail(['model'], `model: the output width is ${widths[widths.length - 1]} but the data has ${data.classes} classes${config.data.dataset === 'mnist' && config.data.digits ? ` (digits ${config.data.digits.join(', ')})` : ''}`);
    }
    const adapter = { ...config.adapter };
    const wholeModel = core.findWholeModelMethod(adapter.method);
    let applied: Core.WholeModelApplied = {};
    try {
      if (adapter.method === 'full') {
        for (const leaf of core.flatten(params).values()) leaf.trainable = true;
      } else if (adapter.method === 'bitfit') {
        core.applyBitFit(model, params, adapter.targetModules !== undefined ? { targetModules: adapter.targetModules } : {});
        for (const entry of adapter.modulesToSave ?? []) {
          const prefix = `${entry}.`;
          const leaves = [...core.flatten(params)].filter(([path]) => path.startsWith(prefix));
          if (leaves.length === 0) ctx.fail(['adapter', 'modulesToSave'], `adapter.modulesToSave: "${entry}" matches no module (modules: ${Object.keys(model.children).join(', ')})`);
          for (const [, leaf] of leaves) leaf.trainable = true;
        }
      } else if (wholeModel) {
        const result = core.applyWholeModelMethod(model, params, adapter, { rng: rng.fork('adapter'), totalSteps: plannedSteps(core, config.train, data.train.size), stepsPerEpoch: core.numBatches(data.train.size, config.train.batchSize) });
        Object.assign(adapter, result.config);
        applied = result.applied;
      } else {
        if (adapter.initLoraWeights === 'corda') {
          // CorDA (Yang et al. 2024) starts from the SVD of W·C, C the covariance of each targeted
          // layer's inputs: PEFT's preprocess_corda, here on the first 256 training examples.
          const calibration = core.subsetDataset(data.train, Int32Array.from({ length: Math.min(CORDA_CALIBRATION, data.train.size) }, (_, i) => i), 'corda-calibration');
          const batches = [...core.batches(calibration, { batchSize: CORDA_CALIBRATION })];
          try {
            core.preprocessCorda(model, params, adapter as Core.LoraConfigInput, batches.map((batch) => batch.x));
          } finally {
            for (const batch of batches) {
              batch.x.dispose();
              batch.y.dispose();
            }
          }
        }
        core.addAdapter(model, params, adapter, 'default', { rng: rng.fork('adapter') });
      }
    } catch (error) {
      if ((error as Error).name === 'ConfigError') throw error;
      ctx.fail(['adapter'], `adapter: ${(error as Error).message}`);
    }
    const trainModel = applied.trainModel ?? model;
    const trainParams = applied.trainParams ?? params;
    const report = core.trainableParameters(trainParams);
    ctx.magic.print(core.formatTrainableTable(report));
    // Methods that act while training (AdaLoRA's rank allocator and orthogonal penalty, as PEFT's
    // update_and_allocate; HFT's rounds; SpIEL's grow and drop) bring train() hooks.
    const hooks = core.combineTrainingHooks([
      ...(applied.hooks ? [applied.hooks] : []),
      ...(wholeModel ? [] : [core.adapterTrainingHooks(model, params, { totalSteps: plannedSteps(core, config.train, data.train.size) })].filter((h): h is Core.AdapterTrainingHooks => h !== undefined)),
    ]);

    // A checkpoint holds the trainable params, the optimizer and the generators, not a hook's own
    // state between steps (AdaLoRA's importance averages, HFT's rounds, SpIEL's selection).
    if (hooks) refuseCheckpoints(trial, `%%adapter with method ${adapter.method}`, 'its training hooks keep state between steps that a checkpoint does not hold');
    const trained = await trainLive({
      core,
      magic: ctx.magic,
      model: trainModel,
      params: trainParams,
      train: data.train,
      test: data.test,
      config: config.train,
      rng: rng.fork('train'),
      title: `${ctx.name}: ${adapter.method} on ${config.data.dataset}`,
      rate: ctx.session.liveRate,
      ...(hooks ? { hooks: { ...(hooks.penalty ? { penalty: hooks.penalty } : {}), ...(hooks.transformGradients ? { transformGradients: hooks.transformGradients } : {}), ...(hooks.afterStep ? { afterStep: hooks.afterStep } : {}) } } : {}),
      ...(trial ? { onEvaluation: (step: number, metrics: { accuracy: number; loss: number }) => trial.report(step, { ...metrics }), checkpoint: !hooks && trial.wantCheckpoint !== false } : {}),
      ...(resume ? { resume: resume.bytes } : {}),
    })
      .catch((error: Error) => {
        if (error.name === 'CheckpointError') {
          const hint = /does not fit/.test(error.message) ? ' (PBT changes hyperparameters, never shapes: was it made with another model or adapter config, e.g. another r?)' : '';
          error.message = `%%adapter: cannot resume from the checkpoint: ${error.message}${hint}`;
        }
        throw error;
      })
      .finally(() => {
        applied.finish?.();
      });
    for (const line of hooks?.summary?.() ?? []) ctx.magic.print(line);
    const hookMetrics = hooks?.metrics?.() ?? {};
    hooks?.dispose?.();
    const value: Omit<AdapterRun, 'name' | 'metrics' | 'record'> = { model, params, adapter, history: trained.result.history };
    return {
      config: { ...config, model: built.recorded, seed: ctx.seed } as unknown as Record<string, unknown>,
      metrics: {
        accuracy: trained.final.accuracy,
        loss: trained.final.loss,
        trainLoss: trained.result.history.loss.at(-1) ?? NaN,
        steps: trained.result.steps,
        trainableParams: report.trainable,
        totalParams: report.all,
        ...hookMetrics,
      },
      curves: trained.curves,
      data: [
        { name: data.train.name, fingerprint: data.train.fingerprint(), size: data.train.size },
        { name: data.test.name, fingerprint: data.test.fingerprint(), size: data.test.size },
      ],
      timings: { totalMs: trained.result.timings.totalMs, msPerStep: trained.result.timings.msPerStep, examplesPerSecond: trained.result.timings.examplesPerSecond },
      value,
      ...checkpointField('adapter', trained.checkpoint),
    };
  },
};

/** The `%%adapter` cell magic. */
export const adapterMagic = experimentMagic(adapterMagicSpec);
